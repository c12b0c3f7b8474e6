#!/usr/bin/env python3
"""Check the FFI rules of the public ABI, for tools/abi-check.

The bindings call libgenesis through ctypes and cgo, which need plain C signatures. In the
library's ABI (abidw XML) every exported genesis_* function, and every function-pointer type
reachable from them (callbacks), must:
  - not be variadic;
  - take and return no struct or union by value (handles and structs go by pointer);
and no public struct or union may have a bitfield (its layout is compiler-defined). Bitfields
are also looked for in the public headers' text, since the XML does not always mark them.

    ffi_check.py ABI.xml HEADERS_DIR     exit 0 when every rule holds, 1 otherwise
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tree = ET.parse(sys.argv[1])
    types = {}
    for el in tree.iter():
        if "id" in el.attrib and el.tag != "elf-symbol":
            types.setdefault(el.attrib["id"], el)

    problems: list[str] = []

    def strip(type_id: str) -> ET.Element | None:
        """The type behind typedefs and qualifiers (not behind pointers)."""
        el = types.get(type_id)
        seen = set()
        while el is not None and el.tag in ("typedef-decl", "qualified-type-def"):
            if type_id in seen:
                break
            seen.add(type_id)
            type_id = el.attrib.get("type-id", "")
            el = types.get(type_id)
        return el

    def describe(el: ET.Element) -> str:
        return f"{el.tag} '{el.attrib.get('name', '?')}'"

    checked_fn_types: set[str] = set()
    public_structs: dict[str, ET.Element] = {}

    def walk(type_id: str, where: str, depth: int = 0) -> None:
        """Follow pointers and public struct members to the callback types behind them."""
        if depth > 8:
            return
        el = strip(type_id)
        if el is None:
            return
        if el.tag == "pointer-type-def":
            walk(el.attrib.get("type-id", ""), where, depth + 1)
        elif el.tag == "function-type":
            fid = el.attrib["id"]
            if fid not in checked_fn_types:
                checked_fn_types.add(fid)
                check_signature(el, f"callback type in {where}")
        elif el.tag in ("class-decl", "union-decl") and el.attrib.get("name", "").startswith("genesis_"):
            name = el.attrib["name"]
            if name not in public_structs and el.attrib.get("is-declaration-only") != "yes":
                public_structs[name] = el
                for member in el.iter("var-decl"):
                    walk(member.attrib.get("type-id", ""), f"{name}.{member.attrib.get('name')}",
                         depth + 1)

    def check_signature(fn: ET.Element, what: str) -> None:
        for i, child in enumerate(c for c in fn if c.tag in ("parameter", "return")):
            if child.attrib.get("is-variadic") == "yes":
                problems.append(f"{what}: variadic (...)")
                continue
            target = strip(child.attrib.get("type-id", ""))
            if target is not None and target.tag in ("class-decl", "union-decl"):
                kind = "returns" if child.tag == "return" else f"parameter {i + 1} takes"
                problems.append(f"{what}: {kind} {describe(target)} by value")
            walk(child.attrib.get("type-id", ""), what)

    # The exported functions are the ELF symbols; abidw may attach a function's declaration to
    # a translation unit that only calls it (without elf-symbol-id), so match by name.
    symbols = {s.attrib["name"] for s in tree.iter("elf-symbol")
               if s.attrib.get("type") == "func-type" and s.attrib.get("is-defined") == "yes"}
    declared: set[str] = set()
    for fn in tree.iter("function-decl"):
        name = fn.attrib.get("name", "")
        if name in symbols and name not in declared:
            declared.add(name)
            check_signature(fn, f"function {name}")
    exported = len(declared)
    for name in sorted(symbols - declared):
        problems.append(f"function {name}: exported without a declaration in the debug info")
    if exported == 0:
        problems.append("no exported function found (debug info missing?)")

    def size_of(type_id: str) -> int | None:
        el = strip(type_id)
        seen = 0
        while el is not None and el.tag == "enum-decl" and seen < 4:
            under = el.find("underlying-type")
            el = strip(under.attrib.get("type-id", "")) if under is not None else None
            seen += 1
        if el is None or "size-in-bits" not in el.attrib:
            return 64 if el is not None and el.tag == "pointer-type-def" else None
        return int(el.attrib["size-in-bits"])

    # A bitfield shows in the layout: a member that does not start on a byte, or that has less
    # room before the next member (or the end) than its type's size.
    for name, el in public_structs.items():
        members = [(int(m.attrib.get("layout-offset-in-bits", "0")), m.find("var-decl"))
                   for m in el.findall("data-member")]
        end = int(el.attrib.get("size-in-bits", "0"))
        for i, (offset, var) in enumerate(members):
            if var is None:
                continue
            room = (members[i + 1][0] if i + 1 < len(members) else end) - offset
            size = size_of(var.attrib.get("type-id", ""))
            if offset % 8 != 0 or (size is not None and 0 <= room < size and el.tag != "union-decl"):
                problems.append(f"struct {name}: member '{var.attrib.get('name')}' is a bitfield")

    # The same rules in the headers' text, which also covers declarations no function uses yet.
    for header in sorted(Path(sys.argv[2]).glob("*.h")):
        text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", header.read_text(), flags=re.S)
        for body in re.findall(r"\bstruct\s*\w*\s*\{([^{}]*)\}", text):
            for member in body.split(";"):
                if re.search(r":\s*\w+\s*$", member):
                    problems.append(f"{header}: bitfield: {' '.join(member.split())}")
        for decl in re.findall(r"[^;{}]*\.\.\.\s*\)[^;{}]*", text):
            problems.append(f"{header}: variadic declaration: {' '.join(decl.split())}")

    if problems:
        for p in problems:
            print("ffi_check: " + p)
        return 1
    print(f"ffi_check: {exported} exported functions and {len(checked_fn_types)} callback types: "
          f"no variadics, no struct by value; {len(public_structs)} public structs: no bitfields")
    return 0


if __name__ == "__main__":
    sys.exit(main())
