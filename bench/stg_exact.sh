#!/usr/bin/env bash
# Issue 16 part 3: the proportion of 50-task random task graphs (STG format, bench/stg_generate.py,
# seeded) that `--method bnb` proves optimal within a time limit per instance, per processor count
# (identical:2, 4, 8). The status is the CLI's: `optimal` when the search completed or the
# makespan meets the certified bound (rounded up to the integer unit). Not a test.
#   bench/stg_exact.sh [DIVIML_BINARY]   env: STYLES ("sameprob samepred layrprob"), SEEDS (1..10),
#                                         PROCS ("2 4 8"), LIMIT (10), N (50), METHOD (bnb)
set -euo pipefail
BIN=${1:-build/diviml}
STYLES=${STYLES:-"sameprob samepred layrprob"}
SEEDS=${SEEDS:-$(seq 1 10)}
PROCS=${PROCS:-"2 4 8"}
LIMIT=${LIMIT:-10}
N=${N:-50}
METHOD=${METHOD:-bnb}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
declare -A proven total
for p in $PROCS; do
  for st in $STYLES; do
    for s in $SEEDS; do
      f="$TMP/${st}_$s.stg"
      /usr/bin/python3 "$HERE/stg_generate.py" "$st" "$N" "$s" > "$f"
      line=$(/usr/bin/time -f "%e %U" -o "$TMP/t" "$BIN" schedule "$f" --platform "identical:$p" --method "$METHOD" \
        --time-limit "$LIMIT" --quiet | head -1)
      read -r wall user < "$TMP/t"
      status=$(sed -E 's/.*\(([a-z_-]+)\), latency.*/\1/' <<< "$line")
      lat=$(sed -E 's/.*latency ([^,]+), lower bound ([^,]+),.*/\1 lb \2/' <<< "$line")
      echo "${st}_$s identical:$p $status $lat ${wall}s wall ${user}s user"
      total[$p]=$(( ${total[$p]:-0} + 1 ))
      if [[ $status == optimal ]]; then proven[$p]=$(( ${proven[$p]:-0} + 1 )); fi
    done
  done
done
for p in $PROCS; do
  echo "identical:$p: ${proven[$p]:-0}/${total[$p]} proven optimal within ${LIMIT} s ($METHOD)"
done
