#!/usr/bin/env python3
"""Summarises bench/run.sh's runs.tsv: medians per configuration, the
ratios b/a, b/c, b/d (and e/c, e/b with nginx) per round (median and spread), and an SVG chart."""
import csv, statistics, sys, pathlib

NAMES = {
    "a": "reverse_proxy alone",
    "b": "smsgate inline + reverse_proxy",
    "c": "forward_auth to smsgate portal",
    "d": "forward_auth to a trivial 200",
    "e": "nginx auth_request to smsgate portal",
}

def main(path, out):
    rows = list(csv.DictReader(open(path), delimiter="\t"))
    configs = [c for c in NAMES if any(r["config"] == c for r in rows)]
    by = {c: [r for r in rows if r["config"] == c] for c in configs}
    med = lambda xs: statistics.median(xs)
    lines = ["| config | req/s (median) | spread | p50 | p99 | server CPU per request |", "|---|---|---|---|---|---|"]
    rps = {}
    for c, rs in by.items():
        r = [float(x["rps"]) for x in rs]
        rps[c] = r
        cpu = med([float(x["cpu_s"]) / float(x["requests"]) * 1e6 for x in rs])
        lines.append(f"| ({c}) {NAMES[c]} | {med(r):,.0f} | {min(r):,.0f}–{max(r):,.0f} | "
                     f"{med([float(x['p50_us']) for x in rs]):,.0f} µs | {med([float(x['p99_us']) for x in rs]):,.0f} µs | {cpu:,.1f} µs |")
    lines += ["", "| ratio (per round) | median | spread |", "|---|---|---|"]
    rounds = sorted({r["round"] for r in rows}, key=int)
    per_round = {r: {x["config"]: float(x["rps"]) for x in rows if x["round"] == r} for r in rounds}
    pairs = [("b", "a"), ("b", "c"), ("b", "d")] + ([("e", "c"), ("e", "b")] if "e" in by else [])
    for num, den in pairs:
        ratios = [per_round[r][num] / per_round[r][den] for r in rounds]
        lines.append(f"| {num}/{den} | {med(ratios):.2f} | {min(ratios):.2f}–{max(ratios):.2f} |")
    table = "\n".join(lines)
    print(table)
    outdir = pathlib.Path(out)
    (outdir / "summary.md").write_text(table + "\n")
    # The chart: median throughput with the min–max spread.
    w, h, left, bar = 640, 46 + len(configs) * 54, 250, 40
    top = max(max(v) for v in rps.values())
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="13">',
           f'<text x="10" y="20" font-weight="bold">Throughput, requests/s (median of {len(rounds)} interleaved rounds; whiskers: min–max)</text>']
    for i, c in enumerate(configs):
        y = 40 + i * (bar + 14)
        scale = (w - left - 70) / top
        m = med(rps[c])
        color = "#2563eb" if c == "b" else "#9aa4ae"
        svg.append(f'<text x="10" y="{y + bar / 2 + 5}">({c}) {NAMES[c]}</text>')
        svg.append(f'<rect x="{left}" y="{y}" width="{m * scale:.1f}" height="{bar}" fill="{color}"/>')
        lo, hi = min(rps[c]) * scale + left, max(rps[c]) * scale + left
        svg.append(f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{y + bar / 2}" y2="{y + bar / 2}" stroke="#111" stroke-width="2"/>')
        svg.append(f'<text x="{hi + 6:.1f}" y="{y + bar / 2 + 5}">{m:,.0f}</text>')
    svg.append("</svg>")
    (outdir / "throughput.svg").write_text("\n".join(svg) + "\n")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ".")
