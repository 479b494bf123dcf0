#!/usr/bin/env bash
# Issue 16 part 3: how often a method proves optimality on 50-task random task graphs (STG
# format, integer times 1..20, random precedence of the STG "rand" style) on 2, 4 and 8
# identical processors, within a time limit per instance. Prints one line per instance and the
# proven fraction per method. Not a test.
#   bench/stg_optimal.sh [DIVIML_BINARY]   env: SEEDS (1..10), PROCS ("2 4 8"), LIMIT (10),
#                                           METHODS (anneal,series-dp,milp)
set -euo pipefail
BIN=${1:-build/diviml}
SEEDS=${SEEDS:-$(seq 1 10)}
PROCS=${PROCS:-"2 4 8"}
LIMIT=${LIMIT:-10}
METHODS=${METHODS:-anneal,series-dp,milp}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for s in $SEEDS; do
  /usr/bin/python3 - "$s" > "$TMP/rand$s.stg" <<'PY'
import random, sys
r = random.Random(int(sys.argv[1]))
n = 50
print(n)
print("0 0 0")
for i in range(1, n + 1):
    preds = sorted(r.sample(range(1, i), min(i - 1, r.randint(0, 3)))) if i > 1 else []
    print(i, r.randint(1, 20), len(preds), *preds)
has_succ = set()
# exit task: every task (the reader keeps only real precedences)
print(n + 1, 0, n, *range(1, n + 1))
PY
done
total=0; declare -A proven
for p in $PROCS; do
  for s in $SEEDS; do
    total=$((total + 1))
    "$BIN" compare "$TMP/rand$s.stg" --platform "identical:$p" --methods "$METHODS" --time-limit "$LIMIT" --quiet \
      --json "$TMP/r.json" > /dev/null
    line=$(/usr/bin/python3 -c "
import json; d = json.load(open('$TMP/r.json'))
print(' '.join('%s=%s(%.0f,%.1fs)' % (r['method'], r.get('status','error'), r.get('makespan_s',0), r.get('solve_seconds',0)) for r in d['rows']))")
    echo "rand$s identical:$p $line"
    for m in ${METHODS//,/ }; do
      if [[ $line == *"$m=optimal"* ]]; then proven[$m]=$(( ${proven[$m]:-0} + 1 )); fi
    done
  done
done
for m in ${METHODS//,/ }; do echo "$m: ${proven[$m]:-0}/$total proven optimal within ${LIMIT} s"; done
