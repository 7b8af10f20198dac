#!/usr/bin/env bash
# Coverage-guided fuzzing of hubtop's parsers of untrusted input (fuzz/, cargo-fuzz + libFuzzer).
#
#   scripts/fuzz.sh seeds               write fuzz/corpus/<target>/ from ../shared (flows, oracle)
#   scripts/fuzz.sh smoke [SECS]        every target for SECS seconds (default 15): CI's run
#   scripts/fuzz.sh run TARGET SECS     one target for SECS seconds on its corpus; the summary
#                                       line (runs, coverage, corpus) goes to target/fuzz-logs/
#
# Targets: filter_text jsonpb_line transcode ring_ingest (see fuzz/fuzz_targets/ and
# src/fuzzing.rs for the property each checks). A failing input is left in
# fuzz/artifacts/<target>/: copy it to fuzz/regressions/<target>/ (tests/fuzz_regressions.rs runs
# them all on every cargo test), then fix the code.
#
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take them. No
# sanitizer (-s none): the fuzzed code has no `unsafe`, so AddressSanitizer would only halve the
# speed; debug assertions are on (-a) so that integer overflow panics.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export RUSTC_BOOTSTRAP=1
TARGETS=(filter_text jsonpb_line transcode ring_ingest)
FLAGS=(-s none -a -O)

need_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "installing cargo-fuzz (once)" >&2
        cargo install cargo-fuzz --locked --version 0.13.2
    fi
}

run_target() { # target seconds corpus-dirs...
    local t=$1 secs=$2
    shift 2
    mkdir -p target/fuzz-logs
    local log=target/fuzz-logs/$t.log rc=0
    cargo fuzz run "${FLAGS[@]}" "$t" "$@" -- -max_total_time="$secs" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1 || rc=$?
    grep -E "^(Done|stat::)|panicked|SUMMARY|Test unit written" "$log" | tail -15 || true
    if [ "$rc" != 0 ]; then
        echo "fuzz target $t failed (exit $rc); its log: $log" >&2
        grep -E -A12 "panicked" "$log" | head -30 >&2 || true
        return "$rc"
    fi
}

case ${1:-smoke} in
seeds)
    cargo test --test fuzz_regressions -- --ignored write_fuzz_seeds --nocapture
    ;;
smoke)
    secs=${2:-15}
    need_cargo_fuzz
    cargo fuzz build "${FLAGS[@]}"
    for t in "${TARGETS[@]}"; do
        echo "== fuzz $t for ${secs}s"
        dir=target/fuzz-smoke/$t
        mkdir -p "$dir" "fuzz/regressions/$t"
        run_target "$t" "$secs" "$dir" "fuzz/regressions/$t"
    done
    ;;
run)
    t=${2:?target}
    secs=${3:?seconds}
    need_cargo_fuzz
    mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t"
    run_target "$t" "$secs" "fuzz/corpus/$t" "fuzz/regressions/$t"
    ;;
*)
    sed -n 2,16p "$0"
    exit 2
    ;;
esac
