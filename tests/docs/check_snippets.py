#!/usr/bin/env python3
"""Compile and link every C snippet of the documentation (the doc_snippets test).

Every ```c fenced block in the given markdown files is written to its own translation unit
and built with the project's compiler, -Wall -Wextra -Werror, against the public headers, and
linked with libgenesis; a block without main() is linked with an empty one. So a snippet that
calls a function with the wrong arguments, uses an undefined name or leaves out fields of a
versioned struct fails the test, naming the page and line.

A block that cannot be a whole program is excluded by putting, on the line right above its
fence:
    <!-- snippet: not compiled (the reason) -->
The reason is printed; use it sparingly. Blocks in other languages (sh, python, go, ...) and
unlabelled blocks are not compiled.
"""
import argparse
import os
import re
import subprocess
import sys

FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
SKIP = re.compile(r"^\s*<!--\s*snippet:\s*not compiled\s*\((.+)\)\s*-->\s*$")
HAS_MAIN = re.compile(r"\bint\s+main\s*\(")


def snippets(path):
    """Yield (line number of the fence, code, skip reason or None) for each ```c block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(2), m.group(3).lower(), i
        i += 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if lang != "c":
            continue
        prev = lines[start - 1] if start > 0 else ""
        skip = SKIP.match(prev)
        yield start + 1, "\n".join(body) + "\n", skip.group(1) if skip else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--include", required=True, help="the public headers' directory")
    ap.add_argument("--library", required=True, help="libgenesis to link")
    ap.add_argument("--out", required=True, help="directory for the generated sources")
    ap.add_argument("--root", required=True, help="paths are reported relative to this")
    ap.add_argument("--cflag", action="append", default=[],
                    help="an extra compiler flag (the build's sanitizer), repeatable")
    ap.add_argument("pages", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    stub = os.path.join(a.out, "snippet_main.c")
    with open(stub, "w") as f:
        f.write("/* Linked with snippets that have no main of their own. */\n"
                "int main(void)\n{\n    return 0;\n}\n")
    built = skipped = 0
    failures = []
    for page in a.pages:
        rel = os.path.relpath(page, a.root)
        for line, code, reason in snippets(page):
            where = f"{rel}:{line}"
            if reason is not None:
                print(f"{where}: not compiled ({reason})")
                skipped += 1
                continue
            name = re.sub(r"[^A-Za-z0-9]+", "_", rel) + f"_{line}"
            src = os.path.join(a.out, name + ".c")
            with open(src, "w") as f:
                f.write(f"#line 1 \"{rel} (block at line {line})\"\n" + code)
            cmd = [a.cc, "-Wall", "-Wextra", "-Werror", "-pthread", *a.cflag, "-I", a.include,
                   src]
            if not HAS_MAIN.search(code):
                cmd.append(stub)
            cmd += [a.library, "-o", os.path.join(a.out, name)]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            if r.returncode != 0:
                failures.append(where)
                print(f"{where}: FAILED\n  {' '.join(cmd)}\n{r.stdout}")
            else:
                print(f"{where}: ok")
                built += 1
    print(f"{built} snippet(s) built, {skipped} excluded, {len(failures)} failed")
    if built == 0 and not failures:
        print("no C snippet found: is the extractor looking at the right pages?")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
