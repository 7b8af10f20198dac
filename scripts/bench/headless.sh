#!/usr/bin/env bash
# headless: `hubtop observe --input-file F --all -o jsonpb` and `-o compact` on a 100k-flow file
# made from the corpus (in /tmp), and the same through `--server` against `hubtop serve
# --input-file F`: wall time (median of runs), CPU time (user + system, median) and peak RSS of
# the observe process. CPU time says what a run costs when the machine is shared (wall time on
# 2 cores is about CPU / 2 when nothing else runs).
# Writes $OUT/headless.tsv. Env: HUBTOP_BENCH_FLOWS (100000), HUBTOP_BENCH_RUNS (5).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${HUBTOP_BENCH_FLOWS:-100000}
RUNS=${HUBTOP_BENCH_RUNS:-5}
# hubble CLI v1.19.4 on this machine, from issue 4: ~4 s for 100k real flows, either format.
HUBBLE_SECS=4.0
RESULT=$OUT/headless.tsv
: >"$RESULT"

need_bin
bin_row "$RESULT" headless
TMP=$(mktemp -d /tmp/hubtop-bench-headless.XXXXXX)
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

if ! "$BIN" observe --help >/dev/null 2>&1; then
    row "$RESULT" headless.skipped "hubtop observe is not in this build: nothing measured" "-"
    exit 0
fi

FILE=$TMP/flows.jsonl
make_flow_file "$N" "$FILE"
LINES=$(wc -l <"$FILE")
row "$RESULT" headless.input "input: corpus lines cycled to $N flows" "$LINES lines, $(($(stat -c %s "$FILE") / 1048576)) MB"

# measure ID WHAT TARGET_SECS -- CMD...: median wall and CPU time, peak RSS over $RUNS runs.
measure() {
    local id=$1 what=$2 target=$3
    shift 4
    local walls=() cpus=() rss=() lines=0
    for _ in $(seq "$RUNS"); do
        if ! /usr/bin/time -f '%e %M %U %S' -o "$TMP/time" "$@" >"$TMP/out" 2>"$TMP/err"; then
            row "$RESULT" "$id" "$what: FAILED ($(head -c 200 "$TMP/err" | tr '\n\t' '  '))" "-"
            return 0
        fi
        read -r w r u s <"$TMP/time"
        walls+=("$w")
        cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
        rss+=("$r")
        lines=$(wc -l <"$TMP/out")
    done
    local wall cpu peak
    wall=$(printf '%s\n' "${walls[@]}" | median)
    cpu=$(printf '%s\n' "${cpus[@]}" | median)
    peak=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
    row "$RESULT" "$id" "$what" "$wall s ($cpu CPU s), $((peak / 1024)) MB peak RSS, $lines lines out" \
        "≤ $target s ($(awk -v h=$HUBBLE_SECS -v t="$target" 'BEGIN { printf "%.0f", h / t }')x hubble's ~${HUBBLE_SECS} s)" \
        "$(yesno le "$wall" "$target")"
}

FILE_TARGET=$(awk -v h=$HUBBLE_SECS 'BEGIN { printf "%.2f", h / 10 }')
SERVER_TARGET=$(awk -v h=$HUBBLE_SECS 'BEGIN { printf "%.2f", h / 3 }')
measure headless.file_jsonpb "observe --input-file F --all -o jsonpb" "$FILE_TARGET" -- \
    "$BIN" observe --input-file "$FILE" --all -o jsonpb
measure headless.file_compact "observe --input-file F --all -o compact" "$FILE_TARGET" -- \
    "$BIN" observe --input-file "$FILE" --all -o compact

PORT=$((20000 + RANDOM % 20000))
"$BIN" serve --input-file "$FILE" --listen "127.0.0.1:$PORT" --buffer $((N + 1000)) \
    >"$TMP/serve.log" 2>&1 &
SERVER_PID=$!
# Ready when a one-flow request is answered (the capture is loaded after the port opens).
ready=
for _ in $(seq 600); do
    if "$BIN" observe --server "127.0.0.1:$PORT" --last 1 -o compact >/dev/null 2>&1; then
        ready=1
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $ready ]]; then
    row "$RESULT" headless.server "serve --input-file did not come up: $(tail -c 200 "$TMP/serve.log" | tr '\n\t' '  ')" "-"
    exit 0
fi
measure headless.server_jsonpb "observe --server (hubtop serve --input-file F) --all -o jsonpb" "$SERVER_TARGET" -- \
    "$BIN" observe --server "127.0.0.1:$PORT" --all -o jsonpb
measure headless.server_compact "observe --server (hubtop serve --input-file F) --all -o compact" "$SERVER_TARGET" -- \
    "$BIN" observe --server "127.0.0.1:$PORT" --all -o compact
SERVER_HWM=$(awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$SERVER_PID/status" 2>/dev/null || echo "?")
row "$RESULT" headless.server_rss "  the server's peak RSS holding the $N flows" "$SERVER_HWM MB"
