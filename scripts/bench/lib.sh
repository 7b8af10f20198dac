# Shared by the bench scripts: paths, result rows, timing helpers. Sourced, not run.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${HUBTOP_BIN:-$ROOT/target/release/hubtop}
OUT=${HUBTOP_BENCH_OUT:-$ROOT/target/bench-results}
CORPUS=${HUBTOP_CORPUS:-$ROOT/../shared/flows/corpus.jsonl}
mkdir -p "$OUT"

# row FILE ID WHAT MEASURED [TARGET MET]: one result line (MET: yes, no or empty).
row() {
    local file=$1 id=$2 what=$3 measured=$4 target=${5:-} met=${6:-}
    local md=$met
    [[ $met == no ]] && md='**no**'
    printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$what" "$measured" "$target" "$md" >>"$file"
    printf '%-28s %-60s %22s  %s %s\n' "$id" "$what" "$measured" "$target" "${met:+($met)}" >&2
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# le A B: whether A <= B (decimals).
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
yesno() { if "$@"; then echo yes; else echo no; fi; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# make_flow_file N PATH: N flows (plus the lost events among them) by cycling the corpus lines.
make_flow_file() {
    local n=$1 path=$2
    [[ -r $CORPUS ]] || { echo "no corpus at $CORPUS (set HUBTOP_CORPUS)" >&2; return 1; }
    awk -v n="$n" '
        { line[NR] = $0 }
        END {
            flows = 0
            for (i = 0; flows < n; i++) {
                l = line[i % NR + 1]
                print l
                if (l ~ /^\{"flow"/) flows++
            }
        }' "$CORPUS" >"$path"
}

# bin_row FILE PREFIX: which binary was measured (and the machine load at the start).
bin_row() {
    row "$1" "$2.binary" "binary measured, and the load average (1, 5, 15 min) at the start" \
        "$(basename "$BIN") built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# need_bin: the release binary exists (build it with `cargo build --release`).
need_bin() {
    if [[ ! -x $BIN ]]; then
        echo "no release binary at $BIN: run cargo build --release" >&2
        return 1
    fi
}
