#!/usr/bin/env python3
"""Check the links between documentation pages (the doc_links test).

Every relative markdown link [text](target) in the given pages must name a file or directory
that exists, relative to the page; a target with #anchor must name a heading of that markdown
file (GitHub's anchors: lower case, punctuation dropped, spaces to hyphens). Links to other
sites (http:, https:, mailto:) are not followed. Code blocks and inline code are not links.

Inline code that names a repository path (it starts with one of the top-level folders below
and holds no placeholder such as <id>, * or $VAR) must name a file or folder that exists, so a
page cannot keep pointing at a file that moved.

    check_links.py --root REPOSITORY PAGE...
"""
import os
import re
import sys

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```+|~~~+)")
CODE = re.compile(r"`([^`\s]+)`")
TOP_FOLDERS = ("core/", "gateway/", "tests/", "bench/", "bindings/", "tools/", "examples/",
               "proto/", "docs/", ".ci/")
PLACEHOLDER = re.compile(r"[<>*{}$]")


def prose_lines(path, keep_code=False):
    """(line number, text) of the lines outside fenced code, with inline code removed unless
    keep_code."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = FENCE.match(line)
            if m:
                if fence is None:
                    fence = m.group(1)
                elif line.strip().startswith(fence):
                    fence = None
                continue
            if fence is None:
                text = line.rstrip("\n")
                yield n, text if keep_code else re.sub(r"`+[^`]*`+", "", text)


def anchors(path):
    found = set()
    seen = {}
    for _, line in prose_lines(path):
        m = HEADING.match(line)
        if not m:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        k = seen.get(slug, 0)
        seen[slug] = k + 1
        found.add(slug if k == 0 else f"{slug}-{k}")
    return found


def main(args):
    if len(args) < 3 or args[0] != "--root":
        print("usage: check_links.py --root REPOSITORY PAGE...", file=sys.stderr)
        return 2
    root, pages = args[1], args[2:]
    errors = 0
    for page in pages:
        for n, line in prose_lines(page, keep_code=True):
            for code in CODE.findall(line):
                if not code.startswith(TOP_FOLDERS) or PLACEHOLDER.search(code):
                    continue
                path = code.split(":")[0].rstrip("/.,")
                if not os.path.exists(os.path.join(root, path)):
                    print(f"{page}:{n}: no such file in the repository: {code}")
                    errors += 1
        base = os.path.dirname(os.path.abspath(page))
        for n, line in prose_lines(page):
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue
                path, _, anchor = target.partition("#")
                full = os.path.normpath(os.path.join(base, path)) if path else os.path.abspath(page)
                if not os.path.exists(full):
                    print(f"{page}:{n}: link to a missing file: {target}")
                    errors += 1
                    continue
                if anchor and full.endswith(".md") and anchor not in anchors(full):
                    print(f"{page}:{n}: no heading for #{anchor} in {os.path.relpath(full)}")
                    errors += 1
    print(f"{len(pages)} page(s) checked, {errors} broken link(s) or path(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
