#!/usr/bin/python3
"""Seeded random task graphs in the STG format (Kasahara lab), for bench/stg_exact.sh.

    stg_generate.py STYLE N SEED > file.stg

Styles, after the generators of the STG set (Tobita & Kasahara, J. Scheduling 5(5), 2002),
processing times uniform integers in 1..10 as in the set's rand* graphs:
  sameprob  each pair i < j is an edge with probability p = 2 * avg_degree / (N - 1)
            (avg_degree 2, i.e. about 2N edges in all)
  samepred  each task picks 0..3 predecessors uniformly among the earlier tasks
  layrprob  tasks split into random layers of 1..2*sqrt(N) tasks; an edge from a task of an
            earlier layer with probability 0.2 (the set's "layrpred"/"layrprob" families)
"""
import random
import sys


def generate(style, n, seed):
    r = random.Random(seed * 1000003 + {"sameprob": 1, "samepred": 2, "layrprob": 3}[style])
    preds = [[] for _ in range(n + 1)]
    if style == "sameprob":
        p = min(1.0, 2 * 2.0 / (n - 1))
        for j in range(2, n + 1):
            preds[j] = [i for i in range(1, j) if r.random() < p]
    elif style == "samepred":
        for j in range(2, n + 1):
            preds[j] = sorted(r.sample(range(1, j), min(j - 1, r.randint(0, 3))))
    elif style == "layrprob":
        layer_of = []
        width_max = max(1, int(2 * n ** 0.5))
        layer = 0
        while len(layer_of) < n:
            for _ in range(r.randint(1, width_max)):
                if len(layer_of) < n:
                    layer_of.append(layer)
            layer += 1
        for j in range(1, n + 1):
            preds[j] = [i for i in range(1, j) if layer_of[i - 1] < layer_of[j - 1] and r.random() < 0.2]
    else:
        raise SystemExit("unknown style " + style)
    lines = [str(n), "0 0 0"]
    for j in range(1, n + 1):
        ps = preds[j] if preds[j] else [0]
        lines.append(" ".join(map(str, [j, r.randint(1, 10), len(ps)] + ps)))
    has_succ = set(i for j in range(1, n + 1) for i in preds[j])
    sinks = [i for i in range(1, n + 1) if i not in has_succ]
    lines.append(" ".join(map(str, [n + 1, 0, len(sinks)] + sinks)))
    lines.append("# %s n=%d seed=%d (diviml bench/stg_generate.py)" % (style, n, seed))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sys.stdout.write(generate(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
