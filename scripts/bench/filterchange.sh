#!/usr/bin/env bash
# A filter change under a firehose: the real binary, `hubtop demo --rate 200000 --buffer
# 1000000`, in a detached 200x60 tmux pane, once the ring is full:
#  - key-to-screen while a filter is being applied: the filter is typed into the bar, Enter,
#    then `?` is sent again and again for 2 s, each time polling `tmux capture-pane` until the
#    help shows (and `?` again until it is gone); the worst and the median over all trials;
#  - the filter's effect complete: Enter until one screen shows the table scrolling through
#    exactly the flows the ring holds (`p/N` under the table equals `ring N/…` in the status
#    bar, which the UI draws from one snapshot) and no "filtering older flows" label: the
#    source has refiltered the ring and the counters count what the table shows.
# Filters alternate between `--not --verdict DROPPED`, none, `--verdict DROPPED` and none.
# Writes $OUT/filterchange.tsv. Env: HUBTOP_BENCH_RATE (200000), HUBTOP_BENCH_BUFFER (1000000),
# HUBTOP_BENCH_TRIALS (4).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATE=${HUBTOP_BENCH_RATE:-200000}
BUFFER=${HUBTOP_BENCH_BUFFER:-1000000}
TRIALS=${HUBTOP_BENCH_TRIALS:-4}
HELP_TITLE='Help — ? or Esc to close'
BAR_TITLE='Filter: hubble observe flags'
RESULT=$OUT/filterchange.tsv
: >"$RESULT"

need_bin
bin_row "$RESULT" filterchange
command -v tmux >/dev/null || { row "$RESULT" filterchange.skipped "tmux is not installed: nothing measured" "-"; exit 0; }
SESSION="hubtop-bench-filter-$$"
cleanup() { tmux kill-session -t "$SESSION" 2>/dev/null || true; }
trap cleanup EXIT

screen() { tmux capture-pane -p -t "$SESSION"; }
# A 2 ms pause without a fork (read times out on a pipe nobody writes): polling captures back to
# back would take a whole core from the program measured on this 2-core machine.
exec 9<> <(:)
breathe() { read -r -t 0.002 -u 9 _ || true; }
# wait_text WANT(1/0) TEXT START_MS LIMIT_MS: ms until TEXT is (not) on screen, or "timeout".
wait_text() {
    local want=$1 text=$2 start=$3 deadline=$(($3 + $4))
    while :; do
        local has=0
        screen | grep -qF "$text" && has=1
        if ((has == want)); then echo $(($(now_ms) - start)); return; fi
        if (($(now_ms) > deadline)); then echo timeout; return; fi
        breathe
    done
}
# The ring's fill and the table's total, from one capture: "RING TOTAL FILTERING(0/1)".
counts() {
    local s ring total filtering=0
    s=$(screen)
    ring=$( (grep -o 'ring [0-9,]*/' <<<"$s" || true) | head -1 | tr -dc '0-9')
    total=$( (grep -oE ' [0-9,]+/[0-9,]+ ┘' <<<"$s" || true) | head -1 | sed 's/.*\///; s/ ┘//' | tr -dc '0-9')
    grep -qF 'filtering older flows' <<<"$s" && filtering=1
    echo "${ring:-0} ${total:-x} $filtering"
}
# type_filter TEXT: opens the bar, replaces its text, waits until the bar shows it checked.
type_filter() {
    tmux send-keys -t "$SESSION" /
    [[ $(wait_text 1 "$BAR_TITLE" "$(now_ms)" 3000) != timeout ]] || return 1
    tmux send-keys -t "$SESSION" C-u
    [[ -n $1 ]] && tmux send-keys -t "$SESSION" -l -- "$1"
    [[ $(wait_text 1 "/ $1" "$(now_ms)" 3000) != timeout ]]
}

tmux new-session -d -s "$SESSION" -x 200 -y 60 \
    "exec env TERM=xterm-256color '$BIN' demo --rate $RATE --buffer $BUFFER"
full="ring $(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$BUFFER")/"
if [[ $(wait_text 1 "$full" "$(now_ms)" 90000) == timeout ]]; then
    row "$RESULT" filterchange.start "the ring did not fill within 90 s" "-"
    exit 0
fi
sleep 1

FILTERS=("--not --verdict DROPPED" "" "--verdict DROPPED" "")
lat=() done_ms=()
for ((i = 0; i < TRIALS; i++)); do
    f=${FILTERS[i % ${#FILTERS[@]}]}
    # Keys while the filter is applied.
    type_filter "$f" || { row "$RESULT" "filterchange.bar" "the filter bar did not take '$f'" "-"; exit 0; }
    t0=$(now_ms)
    tmux send-keys -t "$SESSION" Enter
    while (($(now_ms) - t0 < 2000)); do
        s=$(now_ms); tmux send-keys -t "$SESSION" '?'
        lat+=("$(wait_text 1 "$HELP_TITLE" "$s" 3000)")
        tmux send-keys -t "$SESSION" '?'
        wait_text 0 "$HELP_TITLE" "$(now_ms)" 3000 >/dev/null
    done
    sleep 1
    # The effect of the next filter, without keys in between.
    g=${FILTERS[(i + 1) % ${#FILTERS[@]}]}
    type_filter "$g" || { row "$RESULT" "filterchange.bar" "the filter bar did not take '$g'" "-"; exit 0; }
    t0=$(now_ms)
    tmux send-keys -t "$SESSION" Enter
    took=timeout
    while (($(now_ms) - t0 < 10000)); do
        read -r ring total filtering < <(counts)
        # The bar closed, the table on the new filter, its rows the ring's.
        if [[ $total == "$ring" && $filtering == 0 ]] && ! screen | grep -qF "$BAR_TITLE"; then
            took=$(($(now_ms) - t0)); break
        fi
    done
    done_ms+=("$took")
    sleep 1
done

printf "%s\n" "${lat[@]}" > "$OUT/filterchange-keys.txt"
timeouts=$(printf '%s\n' "${lat[@]}" | grep -c timeout || true)
nums=$(printf '%s\n' "${lat[@]}" | grep -v timeout || true)
n=$(printf '%s\n' "${lat[@]}" | wc -l)
if [[ -n $nums ]]; then
    med=$(median <<<"$nums")
    p99=$(sort -g <<<"$nums" | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print v[i] }')
    worst=$(sort -g <<<"$nums" | tail -1)
    met=$(yesno le "$worst" 50)
    ((timeouts > 0)) && { worst=">3000"; met=no; }
    row "$RESULT" filterchange.key "key-to-screen ('?' → help) during filter changes, $n keys over $TRIALS changes: median / p99 / worst" "$med / $p99 / $worst ms" "worst ≤ 50 ms" "$met"
fi
dnums=$(printf '%s\n' "${done_ms[@]}" | grep -v timeout || true)
dtimeouts=$(printf '%s\n' "${done_ms[@]}" | grep -c timeout || true)
if [[ -n $dnums ]]; then
    dworst=$(sort -g <<<"$dnums" | tail -1)
    dmet=$(yesno le "$dworst" 500)
    ((dtimeouts > 0)) && { dworst=">10000"; dmet=no; }
    row "$RESULT" filterchange.effect "Enter → table rows = the ring's flows (refiltered), $TRIALS changes: each / worst" "$(printf '%s ' "${done_ms[@]}")ms / $dworst ms" "≤ 500 ms" "$dmet"
else
    row "$RESULT" filterchange.effect "the filter's effect never completed within 10 s" "timeout" "≤ 500 ms" no
fi
row "$RESULT" filterchange.status "  status line at the end" "$(screen | sed -n 1p | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-150)"
tmux send-keys -t "$SESSION" q
