#!/usr/bin/env bash
# The TUI under a firehose: the real binary, `hubtop demo --rate R --buffer 1000000`, in a
# detached 200x60 tmux pane, for each rate (50k, 200k flows/s), ~15 s each:
#  - frames/s: every frame ratatui draws ends with "hide cursor" (ESC [?25l); the pane's output
#    is piped to a file and those are counted over a window;
#  - key-to-screen: send `?`, poll `tmux capture-pane` until the help title shows (and `?`
#    again until it is gone), several times; median and worst in ms;
#  - shedding: the lost-events banner (HUBBLE_RING_BUFFER = flows the server says this client
#    read too slowly to get), and the status line;
#  - RSS (VmRSS, VmHWM) and CPU of the process (demo server + client + UI) at the end.
# Writes $OUT/firehose.tsv. Env: HUBTOP_BENCH_RATES ("50000 200000"), HUBTOP_BENCH_BUFFER
# (1000000), HUBTOP_BENCH_SECS (window for frames, 5), HUBTOP_BENCH_KEYS (trials, 5).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATES=${HUBTOP_BENCH_RATES:-50000 200000}
BUFFER=${HUBTOP_BENCH_BUFFER:-1000000}
SECS=${HUBTOP_BENCH_SECS:-5}
KEYS=${HUBTOP_BENCH_KEYS:-5}
HELP_TITLE='Help — ? or Esc to close'
RESULT=$OUT/firehose.tsv
: >"$RESULT"

need_bin
bin_row "$RESULT" firehose
command -v tmux >/dev/null || { row "$RESULT" firehose.skipped "tmux is not installed: nothing measured" "-"; exit 0; }
TMP=$(mktemp -d /tmp/hubtop-bench-firehose.XXXXXX)
SESSION=
cleanup() {
    if [[ -n $SESSION ]]; then tmux kill-session -t "$SESSION" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

size() { stat -c %s "$1" 2>/dev/null || echo 0; }
# Frames drawn in bytes [from, to) of the piped output.
frames_between() {
    tail -c +$(($1 + 1)) "$2" | head -c $(($3 - $1)) | grep -a -o $'\e\\[?25l' | wc -l
}
screen() { tmux capture-pane -p -t "$SESSION"; }
proc_cpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
# Wait until the screen does (want=1) or does not (want=0) show the help; prints ms or "timeout".
wait_help() {
    local want=$1 start=$2 deadline=$(($2 + 3000))
    while :; do
        local has=0
        screen | grep -qF "$HELP_TITLE" && has=1
        if ((has == want)); then echo $(($(now_ms) - start)); return; fi
        if (($(now_ms) > deadline)); then echo timeout; return; fi
    done
}

for RATE in $RATES; do
    K="$((RATE / 1000))k"
    SESSION="hubtop-bench-$$-$RATE"
    RAW=$TMP/pane-$RATE.raw
    tmux new-session -d -s "$SESSION" -x 200 -y 60 "bash --norc --noprofile"
    tmux pipe-pane -t "$SESSION" -o "cat >'$RAW'"
    tmux send-keys -t "$SESSION" "exec env TERM=xterm-256color '$BIN' demo --rate $RATE --buffer $BUFFER" Enter
    PID=
    for _ in $(seq 100); do
        p=$(tmux display-message -p -t "$SESSION" '#{pane_pid}')
        if [[ $(cat "/proc/$p/comm" 2>/dev/null) == hubtop ]]; then PID=$p; break; fi
        sleep 0.05
    done
    if [[ -z $PID ]]; then
        row "$RESULT" "firehose.$K" "demo --rate $RATE did not start" "-"
        tmux kill-session -t "$SESSION"; SESSION=
        continue
    fi
    sleep 2 # connect and settle
    b0=$(size "$RAW"); t0=$(now_ms); c0=$(proc_cpu "$PID")
    sleep "$SECS"
    b1=$(size "$RAW"); t1=$(now_ms); c1=$(proc_cpu "$PID")
    n=$(frames_between "$b0" "$RAW" "$b1")
    fps=$(awk -v n="$n" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", n * 1000 / ms }')
    cores=$(awk -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" -v ms=$((t1 - t0)) 'BEGIN { printf "%.2f", c * 1000 / ms }')
    target_fps= met_fps=
    if ((RATE >= 200000)); then target_fps="≥ 20 fps"; met_fps=$(yesno ge "$fps" 20); fi
    row "$RESULT" "firehose.$K.fps" "demo --rate $RATE: frames/s drawn (over ${SECS} s)" "$fps fps" "$target_fps" "$met_fps"
    row "$RESULT" "firehose.$K.cpu" "  CPU cores used meanwhile (demo server + client + UI)" "$cores"

    lat=()
    for _ in $(seq "$KEYS"); do
        s=$(now_ms); tmux send-keys -t "$SESSION" '?'
        lat+=("$(wait_help 1 "$s")")
        s=$(now_ms); tmux send-keys -t "$SESSION" '?'
        wait_help 0 "$s" >/dev/null
        sleep 0.3
    done
    timeouts=$(printf '%s\n' "${lat[@]}" | grep -c timeout || true)
    nums=$(printf '%s\n' "${lat[@]}" | grep -v timeout || true)
    if [[ -n $nums ]]; then
        med=$(median <<<"$nums")
        worst=$(sort -g <<<"$nums" | tail -1)
        ((timeouts > 0)) && worst=">3000"
        target= met=
        if ((RATE >= 200000)); then
            target="≤ 100 ms"
            met=$(yesno le "${worst#>}" 100)
            ((timeouts > 0)) && met=no
        fi
        row "$RESULT" "firehose.$K.key" "  key-to-screen ('?' → help shown): median / worst of $KEYS" "$med ms / $worst ms" "$target" "$met"
    else
        row "$RESULT" "firehose.$K.key" "  key-to-screen: the help never showed within 3 s" "timeout" "≤ 100 ms" no
    fi

    scr=$(screen)
    status=$(sed -n 1p <<<"$scr" | sed 's/  */ /g; s/^ //; s/ $//')
    banner=$(grep -o 'EVENTS LOST.*' <<<"$scr" | head -1 | sed 's/  */ /g; s/ $//' || true)
    shed=$(grep -o 'HUBBLE_RING_BUFFER [0-9][0-9,]*[0-9]*' <<<"$scr" | head -1 | awk '{ print $2 }' | sed 's/,$//' || true)
    row "$RESULT" "firehose.$K.status" "  status line at the end" "${status:0:150}"
    row "$RESULT" "firehose.$K.shed" "  flows the server says the client missed (HUBBLE_RING_BUFFER lost)" "${shed:-0}"
    [[ -n $banner ]] && row "$RESULT" "firehose.$K.banner" "  lost-events banner" "${banner:0:150}"
    rss=$(awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$PID/status")
    hwm=$(awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$PID/status")
    row "$RESULT" "firehose.$K.rss" "  RSS / peak RSS at the end (ring of $BUFFER, demo server in-process)" "$rss MB / $hwm MB"

    tmux send-keys -t "$SESSION" q
    for _ in $(seq 40); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
    kill "$PID" 2>/dev/null || true
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    SESSION=
done
