#!/usr/bin/env python3
"""Draws docs/benchmarks/peers.md's results as an SVG (no plotting library needed):
left, what aimesh and Envoy AI Gateway add at p50 and p99 over the plain Envoy proxy at each body,
mode and rate; right, each gateway's throughput at saturation.
   plot-peers.py [docs/benchmarks/peers.md] [docs/images/peers.svg]"""
import re
import sys

source = sys.argv[1] if len(sys.argv) > 1 else "docs/benchmarks/peers.md"
target = sys.argv[2] if len(sys.argv) > 2 else "docs/images/peers.svg"
text = open(source, encoding="utf-8").read()
results = text[text.index("<!-- peers:results -->"):]


def first_table(heading):
    part = results[results.index(heading):].splitlines()[1:]
    out, started = [], False
    for line in part:
        if line.startswith("|"):
            started = True
            out.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif started:
            break
    return out[2:]


added = first_table("### What each gateway adds")
saturation = first_table("### Throughput at saturation")


def pair(cell):
    m = re.match(r"(-?\d+) / (-?\d+)", cell)
    return (int(m.group(1)), int(m.group(2))) if m else None


points = []
for body, mode, rate, ours, theirs, *_ in added:
    a, b = pair(ours), pair(theirs)
    if a and b:
        points.append((f"{body} {mode} {rate}/s", a, b))

width, height, left, top = 1100, 430, 60, 50
panel = 600
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
       '<rect width="100%" height="100%" fill="white"/>',
       f'<text x="{left}" y="22" font-size="14" font-weight="bold">Added over a plain Envoy proxy, p50 (bars) and p99 (ticks), ms</text>']
peak = max(max(a[1], b[1], a[0], b[0]) for _, a, b in points) / 1000 if points else 1
peak = min(peak, 12)  # tails past 12 ms are clipped and labelled
plot_h = height - top - 110
step = (panel - left) / max(1, len(points))
for i, (label, ours, theirs) in enumerate(points):
    x = left + i * step
    for j, (value, colour) in enumerate(((ours, "#2b7bb9"), (theirs, "#e08a1e"))):
        p50 = max(0, min(peak, value[0] / 1000))
        p99 = max(0, min(peak, value[1] / 1000))
        bx = x + 4 + j * (step / 2 - 4)
        bw = step / 2 - 6
        h = p50 / peak * plot_h
        svg.append(f'<rect x="{bx:.1f}" y="{top + plot_h - h:.1f}" width="{bw:.1f}" height="{h:.1f}" fill="{colour}"/>')
        y99 = top + plot_h - p99 / peak * plot_h
        svg.append(f'<line x1="{bx:.1f}" x2="{bx + bw:.1f}" y1="{y99:.1f}" y2="{y99:.1f}" stroke="black" stroke-width="2"/>')
        if value[1] / 1000 > peak:
            svg.append(f'<text x="{bx:.1f}" y="{y99 - 3:.1f}" font-size="9">{value[1] / 1000:.0f}</text>')
    svg.append(f'<text transform="translate({x + step / 2:.1f},{top + plot_h + 8}) rotate(60)" font-size="10">{label}</text>')
for tick in range(0, int(peak) + 1, 2):
    y = top + plot_h - tick / peak * plot_h
    svg.append(f'<line x1="{left - 4}" x2="{panel}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
svg.append(f'<rect x="{left}" y="32" width="10" height="10" fill="#2b7bb9"/><text x="{left + 14}" y="41">aimesh</text>')
svg.append(f'<rect x="{left + 80}" y="32" width="10" height="10" fill="#e08a1e"/><text x="{left + 94}" y="41">Envoy AI Gateway</text>')

# Right: throughput at saturation per body and mode.
groups = {}
for body, mode, path, rps, *_ in saturation:
    if path in ("filter", "aigw", "litellm"):
        groups.setdefault(f"{body} {mode}", {})[path] = float(rps)
x0 = panel + 70
svg.append(f'<text x="{x0}" y="22" font-size="14" font-weight="bold">Throughput at saturation, req/s</text>')
top_rps = max(max(g.values()) for g in groups.values()) if groups else 1
gstep = (width - x0 - 20) / max(1, len(groups))
colours = {"filter": "#2b7bb9", "aigw": "#e08a1e", "litellm": "#7a7a7a"}
for i, (label, group) in enumerate(groups.items()):
    x = x0 + i * gstep
    for j, path in enumerate(("filter", "aigw", "litellm")):
        value = group.get(path, 0)
        h = value / top_rps * plot_h
        bx = x + 4 + j * (gstep - 8) / 3
        svg.append(f'<rect x="{bx:.1f}" y="{top + plot_h - h:.1f}" width="{(gstep - 8) / 3 - 2:.1f}" height="{h:.1f}" '
                   f'fill="{colours[path]}"/>')
        svg.append(f'<text x="{bx:.1f}" y="{top + plot_h - h - 3:.1f}" font-size="8">{value:.0f}</text>')
    svg.append(f'<text transform="translate({x + gstep / 2:.1f},{top + plot_h + 8}) rotate(60)" font-size="10">{label}</text>')
svg.append(f'<rect x="{x0}" y="32" width="10" height="10" fill="#7a7a7a"/><text x="{x0 + 14}" y="41">LiteLLM</text>')
svg.append("</svg>")
open(target, "w", encoding="utf-8").write("\n".join(svg) + "\n")
print("wrote", target, "from", len(points), "points and", len(groups), "saturation groups")
