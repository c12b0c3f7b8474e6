"""The ctypes structs have the C structs' sizes and field offsets (compiled against the public
headers), so no option, stats or policy struct is read or written out of place."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from genesis import _lib

REPO = Path(__file__).resolve().parents[3]

STRUCTS = {
    "CallOptions": "genesis_call_options",
    "CoordinatorOptions": "genesis_coordinator_options",
    "ClientOptions": "genesis_client_options",
    "ServiceOptions": "genesis_service_options",
    "Component": "genesis_component",
    "CoordinatorStats": "genesis_coordinator_stats",
    "Policy": "genesis_policy",
    "ComponentStats": "genesis_component_stats",
    "Fault": "genesis_fault",
    "CheckpointInfo": "genesis_checkpoint_info",
    "ChildReport": "genesis_child_report",
}


def test_struct_layouts_match_the_headers(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    lines = []
    for py, c in STRUCTS.items():
        lines.append(f'printf("{py} size %zu\\n", sizeof({c}));')
        for name, _ in getattr(_lib, py)._fields_:
            lines.append(f'printf("{py}.{name} %zu\\n", offsetof({c}, {name}));')
    source = tmp_path / "layout.c"
    source.write_text("#include <genesis/genesis.h>\n#include <stddef.h>\n#include <stdio.h>\n"
                      "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-I", str(REPO / "core" / "include"), str(source), "-o", str(exe)],
                   check=True)
    expected = dict(line.rsplit(" ", 1) for line in
                    subprocess.run([str(exe)], check=True, capture_output=True,
                                   text=True).stdout.splitlines())
    actual = {}
    for py in STRUCTS:
        cls = getattr(_lib, py)
        actual[f"{py} size"] = str(ctypes.sizeof(cls))
        for name, _ in cls._fields_:
            actual[f"{py}.{name}"] = str(getattr(cls, name).offset)
    assert actual == expected
