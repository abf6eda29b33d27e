"""The package's layers only look down, and no import hides in a function body to dodge a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "celldino_utils"

#: Subpackages by layer, bottom first: a module may import its own subpackage and those of lower layers;
#: subpackages of one layer may import each other as long as they form no cycle.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config", "io"),
    ("synthetic", "augment", "models"),
    ("ssl", "train"),
    ("embed", "correct", "evaluate", "plot"),
    ("chapters", "runner", "cli", "__main__", "__init__"),
)
#: Imports inside functions that are not cycle dodges: the command line loads each subcommand's stack on demand
#: (start-up time); ``io``, ``config`` and ``models`` load their torch parts on first use, and ``runner`` its
#: papermill series, so that the runner's check loads neither.
LAZY_IMPORTS = {"cli", "io/__init__", "config/__init__", "models/__init__", "runner/__init__"}


def _layer(name: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if name in names)


def _imports() -> list[tuple[str, str, str, bool]]:
    """(importing module, its subpackage, imported subpackage, inside a function) for every package import."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).with_suffix("").as_posix()
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("celldino_utils."):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("celldino_utils.")]
            for name in names:
                found.append((module, module.split("/")[0], name.split(".")[1], id(node) not in top_level))
    return found


def test_every_subpackage_has_a_layer() -> None:
    subpackages = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if not p.name.startswith("__py")}
    assert subpackages - {name for names in LAYERS for name in names} == set()


@pytest.mark.parametrize("module, package, target, nested", _imports(), ids=lambda v: str(v))
def test_no_import_looks_up(module: str, package: str, target: str, nested: bool) -> None:
    assert _layer(target) <= _layer(package), f"{module} imports celldino_utils.{target}, a layer above it"
    assert not nested or module in LAZY_IMPORTS or module.split("/")[0] in LAZY_IMPORTS, (
        f"{module} imports celldino_utils.{target} inside a function"
    )


def test_subpackages_of_one_layer_import_each_other_without_cycles() -> None:
    edges = {(package, target) for _, package, target, _ in _imports() if package != target}
    same_layer = {(a, b) for a, b in edges if _layer(a) == _layer(b)}
    cycles = sorted((a, b) for a, b in same_layer if (b, a) in same_layer)
    assert cycles == []
