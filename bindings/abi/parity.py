#!/usr/bin/env python3
"""Check that the Python and Go bindings reach every public C function.

The public functions are the GENESIS_API declarations in core/include/genesis/*.h (and, when
a library is given, they must match its exported genesis_* symbols, so a header and the
library cannot drift apart unnoticed). A binding reaches a function when its source calls it:
the Python package through `lib.genesis_x` / `_proto("genesis_x", ...)`, the Go package
through `C.genesis_x` or its C shim. A function a binding leaves out on purpose is listed in
that binding's page (docs/python.md, docs/go.md) under a heading containing "not wrapped",
one per line as

    - `genesis_x`: the reason

Functions marked deprecated in the headers (GENESIS_DEPRECATED, a deprecated attribute, or
"deprecated" in the comment right above the declaration) are optional: they are old names
kept for binary compatibility, and the bindings wrap their replacements.

    parity.py [--lib libgenesis.so] [--repo DIR]     exit 0 when both bindings are complete
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

DECL = re.compile(r"GENESIS_API\b(?P<decl>[^;{]*?)\b(?P<name>genesis_\w+)\s*\(", re.S)
COMMENT_BEFORE = re.compile(r"/\*(?:(?!\*/).)*\*/\s*$", re.S)


def header_functions(include_dir: Path) -> tuple[set[str], set[str]]:
    """(every GENESIS_API function, the deprecated ones) declared in the public headers."""
    functions: set[str] = set()
    deprecated: set[str] = set()
    for header in sorted(include_dir.glob("*.h")):
        text = header.read_text()
        for m in DECL.finditer(text):
            name = m.group("name")
            functions.add(name)
            end = text.find(";", m.end())
            statement = text[m.start():end if end >= 0 else m.end()]
            # The comment block right above the declaration (only whitespace between).
            line_start = text.rfind("\n", 0, m.start()) + 1
            before = COMMENT_BEFORE.search(text[:line_start])
            comment = before.group(0) if before else ""
            if (re.search(r"GENESIS_DEPRECATED|deprecated", statement, re.I)
                    or re.search(r"\bdeprecated\b", comment, re.I)):
                deprecated.add(name)
    return functions, deprecated


def exported_symbols(library: Path) -> set[str]:
    out = subprocess.run(["nm", "-D", "--defined-only", str(library)], check=True,
                         capture_output=True, text=True).stdout
    return {parts[2].split("@")[0] for parts in (line.split() for line in out.splitlines())
            if len(parts) == 3 and parts[1] in "TtWi" and parts[2].startswith("genesis_")}


def called(sources: list[Path], pattern: str) -> set[str]:
    found: set[str] = set()
    rx = re.compile(pattern)
    for path in sources:
        found.update(rx.findall(path.read_text()))
    return found


def python_wraps(repo: Path) -> set[str]:
    pkg = repo / "bindings" / "python" / "genesis"
    return called(sorted(pkg.rglob("*.py")), r"""(?:\blib\.|_proto\(\s*["'])(genesis_\w+)""")


def go_wraps(repo: Path) -> set[str]:
    pkg = repo / "bindings" / "go" / "genesis"
    go = called(sorted(p for p in pkg.glob("*.go") if not p.name.endswith("_test.go")),
                r"\bC\.(genesis_\w+)\s*\(")
    shim = called(sorted(pkg.glob("*.c")), r"\b(genesis_\w+)\s*\(")
    return go | shim


def documented_exclusions(page: Path) -> dict[str, str]:
    """`genesis_x` -> reason, from the page's "not wrapped" section (empty when none)."""
    if not page.exists():
        return {}
    excluded: dict[str, str] = {}
    in_section = False
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            in_section = "not wrapped" in line.lower()
            continue
        m = re.match(r"^\s*[-*]\s+`(genesis_\w+)(?:\(\))?`\s*[:\u2014-]\s*(\S.*)$", line)
        if in_section and m:
            excluded[m.group(1)] = m.group(2)
    return excluded


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", type=Path, help="libgenesis.so whose exports must match the headers")
    ap.add_argument("--repo", type=Path, default=REPO)
    args = ap.parse_args()
    repo: Path = args.repo

    functions, deprecated = header_functions(repo / "core" / "include" / "genesis")
    problems: list[str] = []
    if not functions:
        problems.append("no GENESIS_API function found in core/include/genesis")
    if args.lib:
        exported = exported_symbols(args.lib)
        for name in sorted(exported - functions):
            problems.append(f"{name}: exported by {args.lib.name} but not declared GENESIS_API "
                            "in a public header")
        for name in sorted(functions - exported):
            problems.append(f"{name}: declared in a public header but not exported by "
                            f"{args.lib.name}")

    required = functions - deprecated
    for lang, wraps, page in (("python", python_wraps(repo), repo / "docs" / "python.md"),
                              ("go", go_wraps(repo), repo / "docs" / "go.md")):
        excluded = documented_exclusions(page)
        missing = sorted(required - wraps - set(excluded))
        for name in missing:
            problems.append(f"{lang}: {name} is neither wrapped nor listed with a reason under "
                            f"a 'not wrapped' heading in {page.relative_to(repo)}")
        for name in sorted(set(excluded) - functions):
            problems.append(f"{lang}: {page.relative_to(repo)} lists {name}, which is not a "
                            "public function (renamed or removed?)")
        print(f"parity: {lang}: {len(required & wraps)} of {len(required)} functions wrapped, "
              f"{len(required & set(excluded) - wraps)} documented as not wrapped, "
              f"{len(deprecated)} deprecated (optional, {len(deprecated & wraps)} wrapped)")
    if problems:
        for p in problems:
            print("parity: " + p)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
