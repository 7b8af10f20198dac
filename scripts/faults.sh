#!/usr/bin/env bash
# Runs the fault matrix (tests/faults.rs) one scenario at a time and writes what it measured into
# the "Faults" table of RELIABILITY.md (between the faults:begin / faults:end markers).
#
#   scripts/faults.sh            all the scenarios, then the table
#   scripts/faults.sh NAME       only the scenarios whose test name contains NAME, then the table
#                                (rows of the other scenarios are dropped from it)
#
# Takes a few minutes: some scenarios wait out a 25 s SIGSTOP or a 20 s stall on purpose.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export HUBTOP_FAULTS_REPORT="$out"
cargo test --test faults -- --test-threads=1 ${1:+"$1"}
cargo test --test faults -- --ignored --exact write_the_faults_table_into_reliability_md
echo "RELIABILITY.md: $(ls "$out" | wc -l) rows"
