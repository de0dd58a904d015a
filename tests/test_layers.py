"""The layer picture of docs/architecture.md, enforced: no module imports a package above its own.

terms (the domain's terms) -> extract (sheets) -> kb (graph, queries, tables) -> analysis (estimates,
plots) -> server (the HTTP endpoint and its worker limits) -> cli, explorer (surfaces) -> app.py ->
benches. A package may import its own modules and any package below it; two packages on the same
level (cli, explorer) may not import each other. Imports inside functions count too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[1]
LEVEL = {"terms": 0, "extract": 1, "kb": 2, "analysis": 3, "server": 4, "cli": 5, "explorer": 5, "app": 6, "benches": 7}


def _package(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported_packages(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return [(line, name) for line, name in found if name in LEVEL]


def _modules() -> list[Path]:
    files = [ROOT / "app.py"] if (ROOT / "app.py").exists() else []
    for package in LEVEL:
        if (ROOT / package).is_dir():
            files += sorted((ROOT / package).rglob("*.py"))
    return files


def layer_violations() -> list[str]:
    wrong = []
    for path in _modules():
        own = _package(path)
        for line, name in _imported_packages(path):
            if name != own and LEVEL[name] >= LEVEL[own]:
                wrong.append(
                    f"{path.relative_to(ROOT)}:{line}: {own} (level {LEVEL[own]}) imports {name} (level {LEVEL[name]})"
                )
    return wrong


def test_no_import_crosses_a_layer_upwards():
    assert layer_violations() == []


def test_the_check_sees_a_wrong_import(tmp_path, monkeypatch):
    """The checker itself can fail: an extract module that imports kb is reported."""
    fake = tmp_path / "extract"
    fake.mkdir()
    (fake / "bad.py").write_text("def f():\n    from kb.query import run_query\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert layer_violations() == ["extract/bad.py:2: extract (level 1) imports kb (level 2)"]


@pytest.mark.parametrize("module", ["kb.query", "kb.store", "server.limits", "server.endpoint"])
def test_a_query_process_does_not_load_the_sheet_schema(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('extract', 'pydantic', 'analysis')"
        " or m == 'kb.build'))"
    )
    assert run_python(code).strip() == "[]"
