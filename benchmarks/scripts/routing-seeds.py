#!/usr/bin/env python3
"""Summarises routing-benchmark reports of several seeds: the spread of each mode's TTFT and the
issue's goals per seed. Reads the results tables RoutingReport writes (one report per workload and
seed) and prints markdown.

    python3 benchmarks/scripts/routing-seeds.py [--svg PLOT.svg] REPORT.md [REPORT.md ...] > summary.md

With --svg, also draws the medians and ranges of p99 TTFT, one panel per workload.

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


def main(paths, svg_path=None):
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
    if svg_path:
        with open(svg_path, "w", encoding="utf-8") as f:
            f.write(svg(runs))


COLORS = {"round-robin": "#d62728", "least-request": "#1f77b4", "orca": "#8c564b", "eds-weights": "#7f7f7f",
          "picker": "#2ca02c", "picker-no-affinity": "#9467bd", "oracle": "#ff7f0e"}


def svg(runs):
    """Bars of the median p99 TTFT (log scale) per load and mode, lines from lowest to highest seed."""
    import math
    workloads = [w for w in ["plain", "chat", "system-prompts", "rag", "lora"] if w in runs] + \
        [w for w in runs if w not in ["plain", "chat", "system-prompts", "rag", "lora"]]
    panel_w, panel_h, top, left, bottom = 300, 260, 50, 60, 40
    width = left + panel_w * len(workloads) + 20
    height = top + panel_h + bottom + 40
    values = [p["p99"] for seeds in runs.values() for points in seeds.values() for p in points.values() if p["p99"] > 0]
    lo, hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    def y(v):
        return top + panel_h - (math.log10(max(v, 10 ** lo)) - lo) / (hi - lo) * panel_h
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="20" font-size="14">p99 time to first token: median over the seeds, line from lowest to highest</text>']
    for decade in range(lo, hi + 1):
        parts.append(f'<line x1="{left}" y1="{y(10 ** decade):.1f}" x2="{width - 20}" y2="{y(10 ** decade):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(10 ** decade) + 4:.1f}" text-anchor="end">{10 ** decade:,} ms</text>')
    for i, workload in enumerate(workloads):
        seeds = runs[workload]
        x0 = left + i * panel_w
        loads = sorted({load for points in seeds.values() for load, _ in points})
        modes = [m for m in ORDER if any((l, m) in p for p in seeds.values() for l in loads)]
        group_w = (panel_w - 20) / max(1, len(loads))
        bar_w = (group_w - 16) / max(1, len(modes))
        parts.append(f'<text x="{x0 + panel_w / 2:.1f}" y="{top - 8}" text-anchor="middle" font-size="13">{workload}</text>')
        for g, load in enumerate(loads):
            gx = x0 + 10 + g * group_w
            parts.append(f'<text x="{gx + group_w / 2:.1f}" y="{top + panel_h + 16}" text-anchor="middle">{load} %</text>')
            for m, mode in enumerate(modes):
                p99 = [p[(load, mode)]["p99"] for p in seeds.values() if (load, mode) in p]
                if not p99:
                    continue
                bx = gx + 8 + m * bar_w
                med = statistics.median(p99)
                parts.append(f'<rect x="{bx:.1f}" y="{y(med):.1f}" width="{bar_w - 2:.1f}" height="{top + panel_h - y(med):.1f}"'
                             f' fill="{COLORS.get(mode, "#333")}" opacity="0.85"/>')
                cx = bx + (bar_w - 2) / 2
                parts.append(f'<line x1="{cx:.1f}" y1="{y(min(p99)):.1f}" x2="{cx:.1f}" y2="{y(max(p99)):.1f}" stroke="black"/>')
    legend_y = top + panel_h + bottom + 10
    present = [mode for mode in ORDER if any(mode == m for seeds in runs.values() for points in seeds.values() for _, m in points)]
    for k, mode in enumerate(present):
        lx = left + k * 140
        parts.append(f'<rect x="{lx}" y="{legend_y}" width="12" height="12" fill="{COLORS[mode]}"/>')
        parts.append(f'<text x="{lx + 16}" y="{legend_y + 10}">{mode}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def mark(ratio, goal):
    return f"{ratio:.2f}" if ratio <= goal else f"**{ratio:.2f}**"


if __name__ == "__main__":
    args = sys.argv[1:]
    plot = None
    if args[:1] == ["--svg"]:
        if len(args) < 2:
            sys.exit("--svg needs a file")
        plot, args = args[1], args[2:]
    if not args:
        sys.exit(__doc__)
    main(args, plot)
