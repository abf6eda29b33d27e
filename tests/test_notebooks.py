"""Every notebook is a title, a motivation, one ``parameters`` cell of literals, calls into the chapter drivers and
display: a code cell that branches, loops, computes or defines anything is logic, and logic lives in the package."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import celldino_utils.chapters

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: What a code cell may import: the drivers, and IPython's display.
IMPORTABLE = {"celldino_utils.chapters", "IPython.display"}
#: Calls that only show something.
SHOWING = {"display", "print"}


def _cells(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text())["cells"]
    return [{**cell, "source": "".join(cell["source"])} for cell in cells]


def _code_cells(notebook: Path) -> list[str]:
    return [cell["source"] for cell in _cells(notebook) if cell["cell_type"] == "code"]


def _shown(node: ast.expr) -> bool:
    """A name, an attribute of one, or an item of one by a literal key: something a chapter returned."""
    if isinstance(node, ast.Attribute):
        return _shown(node.value)
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and _shown(node.value)
    return isinstance(node, ast.Name)


def _plain_arguments(call: ast.Call) -> bool:
    """Every argument is a parameter's name or a literal (``*names`` and ``**names`` too)."""
    values = [a.value if isinstance(a, ast.Starred) else a for a in call.args] + [k.value for k in call.keywords]
    return all(isinstance(v, ast.Name | ast.Constant) for v in values)


def _problems(source: str, drivers: set[str]) -> tuple[list[str], int]:
    """What in one code cell is more than imports, driver calls and display; and how many driver calls it makes."""
    problems, calls = [], 0
    for statement in ast.parse(source).body:
        value = statement.value if isinstance(statement, ast.Expr | ast.Assign) else None
        targets_plain = not isinstance(statement, ast.Assign) or all(
            isinstance(t, ast.Name) or (isinstance(t, ast.Tuple) and all(isinstance(e, ast.Name) for e in t.elts))
            for t in statement.targets
        )
        if isinstance(statement, ast.ImportFrom) and statement.module in IMPORTABLE:
            continue
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and targets_plain:
            if value.func.id in drivers and _plain_arguments(value):
                calls += 1
                continue
            if value.func.id in SHOWING and isinstance(statement, ast.Expr):
                arguments = [a.value if isinstance(a, ast.Starred) else a for a in value.args]
                if all(_shown(a) for a in arguments) and not value.keywords:
                    continue
        if isinstance(statement, ast.Expr) and _shown(statement.value):
            continue
        problems.append(f"line {statement.lineno}: {ast.unparse(statement)[:80]}")
    return problems, calls


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_notebook_is_a_title_parameters_driver_calls_and_display(notebook: Path) -> None:
    cells = _cells(notebook)
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"].startswith("# ")
    assert len(cells[0]["source"].split("\n\n", 1)) == 2, "the title cell also says what the chapter does and why"
    parameters = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(parameters) == 1 and cells.index(parameters[0]) == 1
    for statement in ast.parse(parameters[0]["source"]).body:
        assert isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name)
        ast.literal_eval(statement.value)  # raises on anything but a literal
    drivers = set(celldino_utils.chapters.__all__)
    found = [_problems(c["source"], drivers) for c in cells[2:] if c["cell_type"] == "code"]
    assert [p for problems, _ in found for p in problems] == []
    assert 1 <= sum(calls for _, calls in found) <= 2


def test_the_rules_refuse_logic() -> None:
    drivers = {"localisation_table"}
    assert _problems("table = localisation_table(name, seeds=seeds)\ntable.side_by_side", drivers) == ([], 1)
    for logic in (
        "if finetune:\n    table = localisation_table(name)",
        "for name in names:\n    print(name)",
        "table = localisation_table(resolve_path(name))",
        "paths = [name for name in names]",
        "options = {'a': seed}",
        "table.side_by_side.round(3)",
        "from celldino_utils.io import read_profiles",
        "def helper():\n    pass",
    ):
        assert _problems(logic, drivers)[0], logic


def test_tables_a_and_b_share_no_code_cell() -> None:
    by_stem = {notebook.stem: set(_code_cells(notebook)) for notebook in NOTEBOOKS}
    assert by_stem["10_table_A"] & by_stem["11_table_B"] == set()
