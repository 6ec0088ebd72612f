"""The structure holds: no import of ours hides inside a function (to dodge a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "supportbot"


def _late_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            names = []
            if isinstance(inner, ast.ImportFrom) and inner.level == 0:
                names = [inner.module or ""]
            elif isinstance(inner, ast.ImportFrom):
                names = ["(relative)"]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            found += [
                f"{path.name}:{inner.lineno} {n}"
                for n in names
                if n.split(".")[0] in ("supportbot", "(relative)")
            ]
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_of_ours_is_imported_inside_a_function(path):
    assert _late_imports(path) == []


def test_the_check_sees_a_late_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from supportbot.jobs import queues\n    return queues\n")
    assert _late_imports(sample) == ["sample.py:2 supportbot.jobs"]
