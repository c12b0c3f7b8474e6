#!/usr/bin/env python3
"""Render every benchmark JSON file in a directory (see bench/bench_report.h for the format)
into one markdown table and one JSON document. Used by bench/run."""
import argparse
import glob
import json
import os
import sys


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1 or a == 0:
        return f"{v:.2f}"
    return f"{v:.3f}"


def main():
    ap = argparse.ArgumentParser()
    for opt in ("dir", "md", "json", "machine", "started", "seconds", "mode", "load", "commit"):
        ap.add_argument("--" + opt, required=opt in ("dir", "md", "json"), default="")
    a = ap.parse_args()
    benches = []
    for path in sorted(glob.glob(os.path.join(a.dir, "*.json"))):
        try:
            with open(path) as f:
                benches.append(json.load(f))
        except (OSError, ValueError) as err:
            print(f"render: skipping {path}: {err}", file=sys.stderr)
    order = {"inproc": 0, "remote": 1, "events": 2, "overhead": 3}
    benches.sort(key=lambda b: (order.get(b.get("bench"), 99), b.get("bench", "")))
    doc = {"machine": a.machine, "started": a.started, "seconds": a.seconds, "mode": a.mode,
           "load": a.load, "commit": a.commit, "benches": benches}
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    met = [r.get("met") for b in benches for r in b.get("rows", []) if r.get("met") is not None]
    lines = [
        f"Machine: {a.machine}; load average at the end {a.load}.",
        f"Run: `bench/run` ({a.mode} mode), {a.started}, {a.seconds} s, commit {a.commit}.",
        "",
        "| bench | what | value | unit | baseline (same run) | baseline value | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for b in benches:
        for r in b.get("rows", []):
            has_base = bool(r.get("baseline"))
            lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                b.get("bench", "?"), r.get("name", ""), fmt(r.get("value")), r.get("unit", ""),
                r.get("baseline", ""), fmt(r.get("baseline_value")) if has_base else "",
                (fmt(r.get("ratio")) + "x") if has_base and r.get("ratio") is not None else "",
                r.get("target", ""), fmt(r.get("met"))))
    lines.append("")
    lines.append(f"{sum(1 for m in met if m)} of {len(met)} targets met.")
    with open(a.md, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
