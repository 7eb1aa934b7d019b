#!/usr/bin/env python3
"""Summarises routing-benchmark reports of several seeds: the spread of each mode's TTFT and the
issue's goals per seed. Reads the results tables RoutingReport writes (one report per workload and
seed) and prints markdown.

    python3 benchmarks/scripts/routing-seeds.py REPORT.md [REPORT.md ...] > summary.md

Goals (picker at 80-90 % load): p99 TTFT <= 0.5x least request's on the affinity workloads and
<= 0.8x on plain; <= 1.3x the oracle's; cache hit rate within 10 points of the oracle's. They are
RoutingReport's (GOAL_*), which states them in each report; keep the two alike.
"""
import re
import statistics
import sys
from collections import defaultdict

GOAL_AFFINITY_VS_LR = 0.5
GOAL_PLAIN_VS_LR = 0.8
GOAL_VS_ORACLE = 1.3
GOAL_HIT_POINTS = 10
ORDER = ["round-robin", "least-request", "orca", "eds-weights", "picker", "picker-no-affinity", "oracle"]


BEGIN = "<!-- routing-quality:results -->"
END = "<!-- /routing-quality:results -->"


def parse(path):
    """(workload, seed, {(load, mode): {p50, p99, rps, hits}}) of one report's single results section."""
    text = open(path, encoding="utf-8").read()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        sys.exit(f"{path}: expected one results section between {BEGIN} and {END}")
    section = text[text.index(BEGIN):text.index(END)]
    workload = re.search(r"^\| workload \| ([a-z-]+)", section, re.M)
    seed = re.search(r"open loop \(Poisson\), seed (-?\d+)", section)
    if not workload or not seed:
        sys.exit(f"{path}: no workload or seed row in the results section")
    rows = [line for line in section.splitlines() if line.startswith("| load |") or re.match(r"^\| \d+% \|", line)]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")] if rows and rows[0].startswith("| load |") else None
    if header is None:
        sys.exit(f"{path}: no results table")
    column = {name: i for i, name in enumerate(header)}
    points = {}
    for line in rows[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        try:
            load = int(cells[column["load"]].rstrip("%"))
            mode = cells[column["mode"]]
            points[(load, mode)] = {"p50": float(cells[column["TTFT p50"]]), "p99": float(cells[column["TTFT p99"]]),
                                    "rps": float(cells[column["req/s done"]]),
                                    "hits": float(cells[column["cache hits"]].rstrip("%"))}
        except (KeyError, IndexError, ValueError) as e:
            sys.exit(f"{path}: cannot read row {line!r}: {e!r}")
    if not points:
        sys.exit(f"{path}: the results table has no rows")
    return workload.group(1), int(seed.group(1)), points


def spread(values, fmt="{:,.0f}"):
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main(paths):
    runs = defaultdict(dict)  # workload -> seed -> points
    for path in paths:
        workload, seed, points = parse(path)
        if seed in runs[workload]:
            sys.exit(f"{path}: a second report of {workload}, seed {seed}")
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
        tally = {"lr": [0, 0, 0], "oracle": [0, 0]}  # met, measured (, missed where the oracle missed too)
        for load in [l for l in loads if 80 <= l <= 90]:
            for seed in sorted(seeds):
                p = seeds[seed]
                if (load, "picker") not in p:
                    continue
                picker = p[(load, "picker")]
                row = [f"{load} %", str(seed)]
                lr = p.get((load, "least-request"))
                oracle = p.get((load, "oracle"))
                lr = lr if lr and lr["p99"] > 0 else None
                oracle = oracle if oracle and oracle["p99"] > 0 else None
                row.append(mark(picker["p99"] / lr["p99"], vs_lr) if lr else "–")
                row.append(mark(picker["p99"] / oracle["p99"], GOAL_VS_ORACLE) if oracle else "–")
                if lr:
                    tally["lr"][1] += 1
                    if picker["p99"] / lr["p99"] <= vs_lr:
                        tally["lr"][0] += 1
                    elif oracle and oracle["p99"] / lr["p99"] > vs_lr:
                        tally["lr"][2] += 1
                if oracle:
                    tally["oracle"][1] += 1
                    tally["oracle"][0] += picker["p99"] / oracle["p99"] <= GOAL_VS_ORACLE
                row.append(f"{oracle['p99'] / lr['p99']:.2f}" if oracle and lr else "–")
                if oracle and oracle["hits"] == 0 and picker["hits"] == 0:
                    row.append("– (no shared text)")
                elif oracle:
                    ok = oracle["hits"] - picker["hits"] <= GOAL_HIT_POINTS
                    row.append(f"{picker['hits']:.0f} % / {oracle['hits']:.0f} %" + ("" if ok else " **missed**"))
                else:
                    row.append("–")
                out.append("| " + " | ".join(row) + " |")
        met, measured, unreachable = tally["lr"]
        out.append("")
        out.append(f"Picker ÷ least request met at {met} of {measured} points"
                   + (f"; of the {measured - met} missed, the oracle itself was above {vs_lr}× least request's at"
                      f" {unreachable}" if met < measured else "")
                   + f". Picker ÷ oracle met at {tally['oracle'][0]} of {tally['oracle'][1]}.")
        out.append("")
    print("\n".join(out))


def mark(ratio, goal):
    return f"{ratio:.2f}" if ratio <= goal else f"**{ratio:.2f}**"


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
