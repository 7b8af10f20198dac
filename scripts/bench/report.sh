#!/usr/bin/env bash
# Writes the result files in $OUT (*.tsv, from the cargo benches and the scripts) with the
# machine and the date into BENCHMARKS.md, between the `bench:results` markers; the rest of the
# file (notes, history, what each change bought) is left as it is.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOC=${HUBTOP_BENCH_DOC:-$ROOT/BENCHMARKS.md}
BEGIN='<!-- bench:results:begin (written by scripts/bench.sh; edit outside the markers) -->'
END='<!-- bench:results:end -->'

machine() {
    local model cores mem
    model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    cores=$(nproc)
    mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "- machine: $cores cores ($model), $mem RAM, Linux $(uname -r)"
    echo "- toolchain: $(rustc -V 2>/dev/null || echo 'rustc ?'), release profile"
    local code=${HUBTOP_BENCH_CODE:-}
    if [[ -z $code ]]; then
        code="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
        git -C "$ROOT" diff --quiet 2>/dev/null || code+=" + uncommitted changes"
    fi
    echo "- code: $code"
    echo "- written: $(date -u '+%Y-%m-%d %H:%M UTC')"
}

section() {
    local name=$1 title=$2 how=$3 file=$OUT/$1.tsv
    [[ -s $file ]] || return 0
    echo
    echo "### $title"
    echo
    echo "$how; measured $(date -u -r "$file" '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "| id | what | measured | target | met |"
    echo "| --- | --- | --- | --- | --- |"
    awk -F'\t' '{ gsub(/\|/, "\\|"); printf "| `%s` | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$file"
}

block() {
    echo "$BEGIN"
    echo "## Latest figures"
    echo
    machine
    section decode "decode: GetFlowsResponse bytes → ring entry" '`cargo bench --bench decode`'
    section ingest "gRPC ingest on loopback" '`cargo bench --bench ingest`'
    section tui_frame "TUI frame (200x60) and new local filter" '`cargo bench --bench tui_frame`'
    section memory "memory per buffered flow" '`cargo bench --bench memory`'
    section refilter "a new filter applied to the held flows (the source's refilter)" '`cargo bench --bench refilter`'
    section records "writing the view (w) and recording (--record)" '`cargo bench --bench records`'
    section suggest "explain a drop and suggest a policy" '`cargo bench --bench suggest`'
    section headless "headless observe" '`scripts/bench.sh headless`'
    section firehose "the TUI under a firehose" '`scripts/bench.sh firehose`'
    section filterchange "filter changes under a firehose" '`scripts/bench.sh filter`'
    section capture "opening a capture" '`scripts/bench.sh capture`'
    echo
    echo "$END"
}

NEW=$(mktemp)
trap 'rm -f "$NEW"' EXIT
block >"$NEW"
if [[ -f $DOC ]] && grep -qF 'bench:results:begin' "$DOC"; then
    awk -v newfile="$NEW" '
        /bench:results:begin/ { while ((getline l < newfile) > 0) print l; skip = 1; next }
        /bench:results:end/ { skip = 0; next }
        !skip { print }' "$DOC" >"$DOC.tmp"
    mv "$DOC.tmp" "$DOC"
else
    { [[ -f $DOC ]] && cat "$DOC" && echo; cat "$NEW"; } >"$DOC.tmp"
    mv "$DOC.tmp" "$DOC"
fi
echo "wrote $DOC" >&2
