#!/usr/bin/env bash
# Runs hubtop's benchmarks and writes their figures, with the machine and the date, into
# BENCHMARKS.md.
#
#   scripts/bench.sh                 everything: cargo benches, headless, firehose, report
#   scripts/bench.sh cargo [NAME..]  the cargo benches (decode ingest tui_frame memory refilter records suggest)
#   scripts/bench.sh headless        hubtop observe on a 100k-flow file, and via --server
#   scripts/bench.sh firehose        hubtop demo at 50k and 200k flows/s in tmux
#   scripts/bench.sh filter          filter changes on a full 1M ring at 200k flows/s in tmux
#   scripts/bench.sh capture         hubtop --input-file: time to loaded (100k, gzip, 1M flows)
#   scripts/bench.sh report          only rewrite BENCHMARKS.md from target/bench-results
#
# HUBTOP_BENCH_QUICK=1 makes the cargo benches small (to check they work, not for figures).
# Figures are kept in target/bench-results/*.tsv until the next run of the same part.
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$DIR/.." && pwd)
cd "$ROOT"

cargo_benches() {
    local names=("$@")
    ((${#names[@]})) || names=(decode ingest tui_frame memory refilter records suggest)
    for n in "${names[@]}"; do
        # One bench at a time, each in its own process (RSS figures stay clean).
        cargo bench --bench "$n"
    done
}

release() { cargo build --release --bin hubtop; }

case ${1:-all} in
all)
    cargo_benches
    release
    "$DIR/bench/headless.sh"
    "$DIR/bench/firehose.sh"
    "$DIR/bench/filterchange.sh"
    "$DIR/bench/capture.sh"
    "$DIR/bench/report.sh"
    ;;
cargo) shift; cargo_benches "$@"; "$DIR/bench/report.sh" ;;
headless) release; "$DIR/bench/headless.sh"; "$DIR/bench/report.sh" ;;
firehose) release; "$DIR/bench/firehose.sh"; "$DIR/bench/report.sh" ;;
filter) release; "$DIR/bench/filterchange.sh"; "$DIR/bench/report.sh" ;;
capture) release; "$DIR/bench/capture.sh"; "$DIR/bench/report.sh" ;;
report) "$DIR/bench/report.sh" ;;
*) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
