#!/usr/bin/env python3
"""Summarises routing-benchmark reports of several seeds: the spread of each mode's TTFT and the
issue's goals per seed. Reads the results tables RoutingReport writes (one report per workload and
seed) and prints markdown.

    python3 benchmarks/scripts/routing-seeds.py REPORT.md [REPORT.md ...] > summary.md

Goals (picker at 80-90 % load): p99 TTFT <= 0.5x least request's on the affinity workloads and
<= 0.8x on plain; <= 1.3x the oracle's; cache hit rate within 10 points of the oracle's.
"""
import re
import statistics
import sys
from collections import defaultdict

GOAL_AFFINITY_VS_LR = 0.5
GOAL_PLAIN_VS_LR = 0.8
GOAL_VS_ORACLE = 1.3
GOAL_HIT_POINTS = 10
ORDER = ["round-robin", "least-request", "picker", "picker-no-affinity", "oracle"]


def parse(path):
    """(workload, seed, {(load, mode): {p50, p99, rps, hits}}) of one report."""
    text = open(path, encoding="utf-8").read()
    workload = re.search(r"^\| workload \| ([a-z-]+)", text, re.M).group(1)
    seed = int(re.search(r"open loop \(Poisson\), seed (\d+)", text).group(1))
    points = {}
    for row in re.finditer(r"^\| (\d+)% \| [0-9.]+ \| ([a-z-]+) \| ([0-9.]+) \| [0-9.]+ \| ([0-9.]+) \|"
                           r"(?: [0-9.]+ \|){3} ([0-9.]+) \| [0-9.]+ \| (\d+)% \|", text, re.M):
        load, mode, p50, p99, rps, hits = row.groups()
        points[(int(load), mode)] = {"p50": float(p50), "p99": float(p99), "rps": float(rps), "hits": float(hits)}
    if not points:
        sys.exit(f"{path}: no results table")
    return workload, seed, points


def spread(values, fmt="{:,.0f}"):
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main(paths):
    runs = defaultdict(dict)  # workload -> seed -> points
    for path in paths:
        workload, seed, points = parse(path)
        runs[workload][seed] = points
    out = []
    for workload in sorted(runs, key=lambda w: ["plain", "chat", "system-prompts", "rag", "lora"].index(w)
                           if w in ["plain", "chat", "system-prompts", "rag", "lora"] else 9):
        seeds = runs[workload]
        loads = sorted({load for points in seeds.values() for load, _ in points})
        modes = [m for m in ORDER if any((l, m) in p for p in seeds.values() for l in loads)]
        out.append(f"### `{workload}`: {len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, sorted(seeds)))})\n")
        out.append("p99 TTFT in ms, median over the seeds (lowest–highest); cache hits as median.\n")
        out.append("| load | " + " | ".join(modes) + " |")
        out.append("|---:|" + "---:|" * len(modes))
        for load in loads:
            cells = []
            for mode in modes:
                p99 = [p[(load, mode)]["p99"] for p in seeds.values() if (load, mode) in p]
                hits = [p[(load, mode)]["hits"] for p in seeds.values() if (load, mode) in p]
                cell = spread(p99) if p99 else "–"
                if hits and workload != "lora" and statistics.median(hits) > 0:
                    cell += f", {statistics.median(hits):.0f} % hits"
                cells.append(cell)
            out.append(f"| {load} % | " + " | ".join(cells) + " |")
        vs_lr = GOAL_PLAIN_VS_LR if workload == "plain" else GOAL_AFFINITY_VS_LR
        out.append("")
        out.append(f"Goals per seed (picker ÷ least request ≤ {vs_lr}; picker ÷ oracle ≤ {GOAL_VS_ORACLE};"
                   f" hits within {GOAL_HIT_POINTS} points of the oracle's):\n")
        out.append("| load | seed | picker ÷ least request | picker ÷ oracle | oracle ÷ least request | hits picker / oracle |")
        out.append("|---:|---:|---:|---:|---:|---|")
        for load in [l for l in loads if 80 <= l <= 90]:
            for seed in sorted(seeds):
                p = seeds[seed]
                if (load, "picker") not in p:
                    continue
                picker = p[(load, "picker")]
                row = [f"{load} %", str(seed)]
                lr = p.get((load, "least-request"))
                oracle = p.get((load, "oracle"))
                row.append(mark(picker["p99"] / lr["p99"], vs_lr) if lr else "–")
                row.append(mark(picker["p99"] / oracle["p99"], GOAL_VS_ORACLE) if oracle else "–")
                row.append(f"{oracle['p99'] / lr['p99']:.2f}" if oracle and lr else "–")
                if oracle:
                    ok = oracle["hits"] - picker["hits"] <= GOAL_HIT_POINTS
                    row.append(f"{picker['hits']:.0f} % / {oracle['hits']:.0f} %" + ("" if ok else " **missed**"))
                else:
                    row.append("–")
                out.append("| " + " | ".join(row) + " |")
        out.append("")
    print("\n".join(out))


def mark(ratio, goal):
    return f"{ratio:.2f}" if ratio <= goal else f"**{ratio:.2f}**"


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
