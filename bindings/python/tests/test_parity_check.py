"""bindings/abi/parity.py itself: it fails when a public function is left out of a binding,
accepts a documented reason, and treats deprecated names as optional."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PARITY = REPO / "bindings" / "abi" / "parity.py"


def _tree(tmp: Path) -> Path:
    root = tmp / "repo"
    shutil.copytree(REPO / "core" / "include", root / "core" / "include")
    for lang in ("python", "go"):
        shutil.copytree(REPO / "bindings" / lang / "genesis", root / "bindings" / lang / "genesis",
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("*.png"))
    return root


def _run(root: Path) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, str(PARITY), "--repo", str(root)],
                          capture_output=True, text=True)


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text().replace("#ifdef __cplusplus\n}", text + "\n#ifdef __cplusplus\n}", 1))


def test_the_repository_passes(tmp_path: Path) -> None:
    proc = _run(_tree(tmp_path))
    assert proc.returncode == 0, proc.stdout


def test_a_new_function_left_out_fails_until_documented(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    header = root / "core" / "include" / "genesis" / "client.h"
    _append(header, "/* Something new. */\nGENESIS_API int genesis_client_frobnicate(genesis_client *cl);\n")
    proc = _run(root)
    assert proc.returncode == 1
    assert "python: genesis_client_frobnicate is neither wrapped" in proc.stdout
    assert "go: genesis_client_frobnicate is neither wrapped" in proc.stdout
    for page in ("python.md", "go.md"):
        doc = root / "docs" / page
        doc.write_text(doc.read_text() + "\n- `genesis_client_frobnicate`: not useful here.\n")
    proc = _run(root)
    assert proc.returncode == 0, proc.stdout


def test_deprecated_names_are_optional(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    header = root / "core" / "include" / "genesis" / "client.h"
    _append(header, "GENESIS_API int genesis_client_old_name(genesis_client *cl)\n"
                    "    GENESIS_DEPRECATED(\"use genesis_client_new_name\");\n")
    proc = _run(root)
    assert proc.returncode == 0, proc.stdout
