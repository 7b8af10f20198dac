#!/usr/bin/env bash
# capture: `hubtop --input-file F` in a detached 200x60 tmux pane, from the command to the
# status line's "● capture ·" with the table full (polling `tmux capture-pane` every 20 ms; the
# median of runs), for a 100k-flow file, the same gzipped, and a 1M-flow file into the default
# 100k ring (the newest kept); and the process's peak RSS (VmHWM) once loaded.
# Writes $OUT/capture.tsv. Env: HUBTOP_BENCH_RUNS (3).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${HUBTOP_BENCH_RUNS:-3}
RESULT=$OUT/capture.tsv
: >"$RESULT"

need_bin
bin_row "$RESULT" capture
command -v tmux >/dev/null || { row "$RESULT" capture.skipped "tmux is not installed: nothing measured" "-"; exit 0; }
TMP=$(mktemp -d /tmp/hubtop-bench-capture.XXXXXX)
SESSION=hubtop-bench-capture-$$
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

make_flow_file 100000 "$TMP/100k.jsonl"
gzip -c "$TMP/100k.jsonl" >"$TMP/100k.jsonl.gz"
make_flow_file 1000000 "$TMP/1m.jsonl"
row "$RESULT" capture.input "inputs: corpus lines cycled to 100k and 1M flows" \
    "$(($(stat -c %s "$TMP/100k.jsonl") / 1048576)) MB, gz $(($(stat -c %s "$TMP/100k.jsonl.gz") / 1048576)) MB, $(($(stat -c %s "$TMP/1m.jsonl") / 1048576)) MB"

# measure ID WHAT TARGET_SECS FILE: median seconds to loaded, and the peak RSS.
measure() {
    local id=$1 what=$2 target=$3 file=$4 times=() rss=0
    for _ in $(seq "$RUNS"); do
        tmux kill-session -t "$SESSION" 2>/dev/null || true
        local start
        start=$(now_ms)
        tmux new-session -d -s "$SESSION" -x 200 -y 60 "$BIN --input-file $file; sleep 600"
        local done=
        for _ in $(seq 6000); do
            if tmux capture-pane -p -t "$SESSION" | grep -q '● capture ·.* flows' &&
                tmux capture-pane -p -t "$SESSION" | grep -qE ' [0-9,]+/[0-9,]+ ┘'; then
                done=1
                break
            fi
            sleep 0.02
        done
        local end
        end=$(now_ms)
        if [[ -z $done ]]; then
            row "$RESULT" "$id" "$what: never loaded ($(tmux capture-pane -p -t "$SESSION" | head -1))" "-"
            return 0
        fi
        times+=("$(awk -v ms=$((end - start)) 'BEGIN { printf "%.2f", ms / 1000 }')")
        local pid
        pid=$(pgrep -f "^$BIN --input-file $file" | head -1 || true)
        if [[ -n $pid ]]; then
            local hwm
            hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
            ((hwm > rss)) && rss=$hwm
        fi
        tmux send-keys -t "$SESSION" q
        sleep 0.3
    done
    local t
    t=$(printf '%s\n' "${times[@]}" | median)
    row "$RESULT" "$id" "$what" "$t s to loaded, $((rss / 1024)) MB peak RSS" "≤ $target s" "$(yesno le "$t" "$target")"
}

measure capture.100k "hubtop --input-file F (100k flows)" 3 "$TMP/100k.jsonl"
measure capture.100k_gz "hubtop --input-file F.gz (100k flows, gzip)" 3 "$TMP/100k.jsonl.gz"
measure capture.1m "hubtop --input-file F (1M flows; the newest 100k kept)" 20 "$TMP/1m.jsonl"
