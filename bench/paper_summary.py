#!/usr/bin/env python3
"""Summary of bench/paper_comparison.sh results as a Markdown table.

    bench/paper_summary.py OUT_DIR [MORE_DIRS...]

Files of the same instance in several folders are merged (the first folder that has a method's
results wins; the lower bound is the best over all folders), so the full MILP may come from a run
on another machine. Latencies in microseconds.
Columns: the list schedulers, anneal, the full MILP (status, time), split (time), the lower bound
(the best of `diviml bound` and every method's own), split's gap to it, split's improvement over
the best list scheduler (fastest device, HEFT, CPOP, PEFT), and the time at which the full MILP's
incumbent first matched split's latency (from its progress log, 2 s resolution) with the ratio to
split's time ("> x" when it never did within its limit); the exact series DP (series-dp: status,
its own seconds, and the whole process's wall/CPU seconds from OUT/LABEL.series-dp.time) and the
full MILP's latency at its limit against series-dp's (excess, and the ratio of their times).
"""
import glob
import json
import os
import re
import statistics
import sys

PARTS = ("baselines", "anneal", "split", "milp", "series-dp")
PROGRESS = re.compile(r"^\[\s*([0-9.]+)s\]\s+\S+\s+incumbent\s+([0-9.eE+-]+)s")


def load(dirs):
    labels = []
    for d in dirs:
        for p in sorted(glob.glob(os.path.join(d, "*.*.json"))):
            lab = os.path.basename(p).split(".")[0]
            if lab not in labels:
                labels.append(lab)
    data = {}
    for lab in labels:
        rows, lb, log, times = {}, 0.0, None, None
        for part in PARTS + ("bound",):
            for d in dirs:
                p = os.path.join(d, f"{lab}.{part}.json")
                if not os.path.exists(p):
                    continue
                js = json.load(open(p))
                if part == "bound":
                    lb = max(lb, js["lower_bound_s"])
                else:
                    for r in js["rows"]:
                        rows.setdefault(r["method"], r)
                        lb = max(lb, r.get("lower_bound_s") or 0)
                tp = os.path.join(d, f"{lab}.series-dp.time")
                if part == "series-dp" and os.path.exists(tp):
                    nums = open(tp).read().split()[-3:]
                    times = (float(nums[0]), float(nums[1]) + float(nums[2]))
                if part == "milp" and os.path.exists(os.path.join(d, f"{lab}.milp.log")):
                    log = os.path.join(d, f"{lab}.milp.log")
                if part != "bound":  # every bound is valid: take the best of all folders
                    break
        if rows:
            data[lab] = (rows, lb, log, times)
    return data


def time_to_match(log, target, milp_row):
    """Seconds until the MILP incumbent was <= target, or None if never."""
    if log:
        for line in open(log):
            m = PROGRESS.match(line)
            if m and float(m.group(2)) <= target * (1 + 1e-9):
                return float(m.group(1))
    if milp_row and milp_row["makespan_s"] <= target * (1 + 1e-9):
        return milp_row["solve_seconds"]
    return None


def pct(x):
    """One decimal; a bound equal to the latency up to solver tolerances shows as 0.0, not -0.0."""
    return f"{x:.1f}".replace("-0.0", "0.0")


def us(x):
    return f"{1e6 * x:.1f}"


def main(dirs):
    data = load(dirs)
    order = sorted(data, key=lambda s: (s.startswith("randwire"), s))
    print("| graph | fastest device | HEFT | CPOP | PEFT | anneal (time) | full MILP (status, time) | split (time) "
          "| bound | split gap | split vs best list | MILP time to match split (ratio) "
          "| series-dp (status, process time) | full MILP vs series-dp (latency, time ratio) |")
    print("|" + "---|" * 14)
    real_gaps, rw_gain = [], []
    for lab in order:
        rows, lb, log, times = data[lab]
        get = lambda m: rows.get(m)
        cells = [lab]
        for m in ("fastest-device", "heft", "cpop", "peft"):
            cells.append(us(get(m)["makespan_s"]) if get(m) else "")
        a = get("anneal")
        cells.append(f"{us(a['makespan_s'])} ({a['solve_seconds']:.1f} s)" if a else "")
        milp = get("milp")
        cells.append(f"{us(milp['makespan_s'])} ({milp['status']}, {milp['solve_seconds']:.0f} s)" if milp else "")
        s = get("split")
        cells.append(f"{us(s['makespan_s'])} ({s['solve_seconds']:.1f} s)" if s else "")
        cells.append(us(lb) if lb > 0 else "")
        lists = [get(m)["makespan_s"] for m in ("fastest-device", "heft", "cpop", "peft") if get(m)]
        if s and lb > 0:
            gap = 100 * (s["makespan_s"] - lb) / lb
            cells.append(f"{pct(gap)}%")
            if not lab.startswith("randwire"):
                real_gaps.append(gap)
        else:
            cells.append("")
        if s and lists:
            gain = 100 * (1 - s["makespan_s"] / min(lists))
            cells.append(f"{gain:.1f}%")
            if lab.startswith("randwire"):
                rw_gain.append(gain)
        else:
            cells.append("")
        if s and milp:
            t = time_to_match(log, s["makespan_s"], milp)
            split_t = max(1e-3, s["solve_seconds"])
            if t is None:
                cells.append(f"not in {milp['solve_seconds']:.0f} s (> {milp['solve_seconds'] / split_t:.0f}x)")
            else:
                cells.append(f"{t:.0f} s ({t / split_t:.1f}x)")
        else:
            cells.append("")
        sd = get("series-dp")
        if sd:
            t = f"{times[0]:.1f} s wall, {times[1]:.1f} s CPU" if times else f"{sd['solve_seconds']:.1f} s"
            cells.append(f"{us(sd['makespan_s'])} ({sd['status']}, {t})")
        else:
            cells.append("")
        if sd and milp:
            excess = 100 * (milp["makespan_s"] - sd["makespan_s"]) / sd["makespan_s"]
            # compare computes the reported bound (the same DP) before the method, which then
            # reuses it: the process's wall time is series-dp's time to its result.
            sd_t = times[0] if times else sd["solve_seconds"]
            ratio = milp["solve_seconds"] / max(1e-3, sd_t)
            cells.append(f"+{pct(excess)}% ({milp['status']}; {ratio:.1f}x the time)")
        else:
            cells.append("")
        print("| " + " | ".join(cells) + " |")
    if real_gaps:
        print(f"\nmedian split gap on the real models: {statistics.median(real_gaps):.1f}% "
              f"({', '.join(pct(g) for g in sorted(real_gaps))})")
    if rw_gain:
        print(f"split vs best list scheduler on RandWire: min {min(rw_gain):.1f}%, mean "
              f"{statistics.mean(rw_gain):.1f}%, max {max(rw_gain):.1f}% over {len(rw_gain)} graphs")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
