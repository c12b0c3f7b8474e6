#!/usr/bin/env python3
"""Render every benchmark JSON file in a directory (see bench/bench_report.h for the format)
into one markdown table and one JSON document. Used by bench/run.

--splice PAGE also writes that table into PAGE between the lines
"<!-- bench/run: latest results begin -->" and "<!-- bench/run: latest results end -->"
(docs/performance.md), so the page shows the latest run without anyone copying it.
--check-splice PAGE --md FILE only checks that PAGE's marked section is exactly FILE
(the doc_bench_results test) and exits 1 with a message when it is not."""
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


BEGIN = "<!-- bench/run: latest results begin -->"
END = "<!-- bench/run: latest results end -->"


def marked_section(text, page):
    """(start, end) offsets of the text between the markers of page, or exit with a reason."""
    b = text.find(BEGIN)
    e = text.find(END)
    if b < 0 or e < 0 or e < b:
        sys.exit(f"render: {page} has no '{BEGIN}' ... '{END}' section")
    start = b + len(BEGIN) + 1
    return start, e


def splice(page, table):
    with open(page) as f:
        text = f.read()
    start, end = marked_section(text, page)
    with open(page, "w") as f:
        f.write(text[:start] + table + text[end:])


def check_splice(page, md):
    with open(page) as f:
        text = f.read()
    with open(md) as f:
        table = f.read()
    start, end = marked_section(text, page)
    if text[start:end] != table:
        print(f"{page}: the section between the bench/run markers differs from {md}; "
              f"run bench/run, or: bench/render.py --splice-only {page} --md {md}",
              file=sys.stderr)
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    for opt in ("dir", "md", "json", "machine", "started", "seconds", "mode", "load", "commit",
                "splice", "check_splice", "splice_only"):
        ap.add_argument("--" + opt.replace("_", "-"), dest=opt, default="")
    a = ap.parse_args()
    if a.check_splice or a.splice_only:
        if not a.md:
            ap.error("--check-splice and --splice-only need --md")
        if a.check_splice:
            return check_splice(a.check_splice, a.md)
        with open(a.md) as f:
            splice(a.splice_only, f.read())
        return 0
    if not (a.dir and a.md and a.json):
        ap.error("--dir, --md and --json are required")
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
    if a.splice:
        splice(a.splice, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
