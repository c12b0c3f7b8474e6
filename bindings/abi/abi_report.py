#!/usr/bin/env python3
"""Decide whether an abidiff report (exit bit 4: "the ABI changed") lists compatible changes
only, for tools/abi-check.

abidiff sets its "incompatible" bit only for removed functions and variables; inserted struct
members, changed member or parameter types and renumbered enumerators are reported as plain
changes. So this reads the report against an allow-list of the changes Genesis makes on
purpose: added functions (and symbols), and data members appended at the end of a struct
(option and stats structs grow that way, under a new version number). Any other line fails,
so an unknown kind of change is looked at by a person (who can then record it with
tools/abi-check --update).

    abi_report.py REPORT.txt     exit 0: compatible; 1: not (offending lines printed)
"""

from __future__ import annotations

import re
import sys

# Lines that only give context (which function, through which parameter or type).
CONTEXT = [re.compile(p) for p in (
    r"^(Functions|Variables) changes summary: 0 Removed(\s|,)",
    r"^(Function|Variable) symbols changes summary: 0 Removed(\s|,)",
    r"^\d+ Added (function|variable)s?( symbols? not referenced by debug info)?:$",
    r"^\[A\] ",
    r"^\d+ (function|variable)s? with (some )?(indirect )?sub-type changes?:$",
    r"^\[C\] '.*' (at \S+ )?has some (indirect )?sub-type changes:$",
    r"^parameter \d+ of type '.*' has sub-type changes:$",
    r"^return type '.*' has sub-type changes:$",
    r"^in (pointed to|unqualified underlying|referenced) type '.*'( at \S+)?:$",
    r"^underlying type '.*'( at \S+)? changed:$",
    r"^type of variable changed:$",
    r"^'.*' changed, as reported earlier$",
    r"^.* details were reported earlier$",
    r"^\d+ data member insertions?:$",
    r"^type size hasn't changed$",
)]
SIZE = re.compile(r"^type size changed from (\d+) to (\d+) \(in bits\)$")
INSERTED = re.compile(r"^'(.*)', at offset (\d+) \(in bits\)( at \S+)?$")


def check(lines: list[str]) -> list[str]:
    """The offending lines (empty when every change is an append)."""
    bad = []
    old_size = None  # of the struct whose changes are being listed
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        m = SIZE.match(line)
        if m:
            old_size, new_size = int(m.group(1)), int(m.group(2))
            if new_size < old_size:
                bad.append(f"{line}    <- a struct shrank")
            continue
        m = INSERTED.match(line)
        if m:
            if old_size is None or int(m.group(2)) < old_size:
                bad.append(f"{line}    <- not appended at the end (old size {old_size} bits)")
            continue
        if any(p.match(line) for p in CONTEXT):
            continue
        bad.append(line)
    return bad


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        bad = check(f.read().splitlines())
    if bad:
        print("abi_report: changes that are not compatible additions:")
        for line in bad:
            print("  " + line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
