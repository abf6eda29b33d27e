"""What a notebook's code is: its cells' sources, its parameters' defaults, and the package code it imports.

The package code is found by walking the imports of the notebook's code cells with ``ast``, transitively
through the package's modules, resolving them with the import system's finders; nothing is imported.
"""

from __future__ import annotations

import ast
import functools
import importlib.machinery
import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from celldino_utils.io.stamps import MISSING, file_sha256, file_stamp, sha256_hex, value_sha256

PACKAGE = "celldino_utils"

#: Non-Python files a module reads, relative to the folder holding the package: they count as its code.
DATA_FILES: Mapping[str, tuple[str, ...]] = {"celldino_utils.train.command": ("configs/train/default.yaml",)}


def _read_cells(notebook: Path) -> list[dict[str, Any]]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [{**c, "source": "".join(c["source"]) if isinstance(c["source"], list) else c["source"]} for c in cells]


def _cells(notebook: Path) -> list[tuple[str, str]]:
    return [(cell["cell_type"], cell["source"]) for cell in _read_cells(notebook)]


def notebook_source_hash(notebook: str | Path) -> str:
    """SHA-256 of a notebook's cells, by type and source only (not outputs, ids, metadata or execution counts).

    Parameters
    ----------
    notebook : str or Path
        An ``.ipynb`` file.
    """
    return value_sha256(_cells(Path(notebook)))


_TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict", type(None): "None"}


def type_name(value: object) -> str:
    """The name a parameter's type goes by: ``int``, ``str``, ``list``, ``None``..."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _parameter_cell(notebook: Path) -> list[tuple[str, str | None, ast.expr]] | None:
    """``(name, annotation or None, value)`` of each assignment of the ``parameters`` cell; None without that cell."""
    for cell in _read_cells(notebook):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            found = []
            for node in ast.parse(cell["source"]).body:
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                    annotation = ast.unparse(node.annotation) if isinstance(node, ast.AnnAssign) else None
                    if isinstance(target, ast.Name):
                        found.append((target.id, annotation, node.value))
            return found
    return None


def notebook_defaults(notebook: str | Path) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell, with their literal defaults.

    Parameters
    ----------
    notebook : str or Path
        An ``.ipynb`` file.

    Returns
    -------
    dict[str, Any]
        Default by name; names assigned something other than a literal are left out.
    """
    defaults = {}
    for name, _, value in _parameter_cell(Path(notebook)) or []:
        try:
            defaults[name] = ast.literal_eval(value)
        except ValueError:
            continue
    return defaults


def notebook_parameters(notebook: str | Path) -> dict[str, str]:
    """Names and types of the parameters a notebook declares in its ``parameters`` cell (read, not executed).

    The type is the annotation when there is one, else the type of the default literal (:func:`type_name`).

    Raises
    ------
    ValueError
        If the notebook has no cell tagged ``parameters``, or a parameter without annotation defaults to something
        other than a literal, naming the notebook and the parameter.
    """
    found = _parameter_cell(Path(notebook))
    if found is None:
        raise ValueError(f"{notebook}: no cell tagged 'parameters'")
    types = {}
    for name, annotation, value in found:
        if annotation and annotation != "None":
            types[name] = annotation
            continue
        try:
            types[name] = type_name(ast.literal_eval(value))
        except ValueError:
            raise ValueError(
                f"{notebook}: parameter {name!r} must default to a literal, got {ast.unparse(value)}"
            ) from None
    return types


def _imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Dotted names an ``import`` may load in ``source`` (module ``module``), relative imports made absolute."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [node.module])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _module_file(name: str) -> Path | None:
    """The source file of module ``name``, found without importing it or its packages (None if not a module)."""
    top, *rest = name.split(".")
    spec = importlib.util.find_spec(top)
    for part in rest:
        if spec is None or spec.submodule_search_locations is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(f"{spec.name}.{part}", spec.submodule_search_locations)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


@functools.lru_cache(maxsize=4096)
def _module_record(path: str, stamp: str, module: str) -> tuple[str, frozenset[str]]:
    """SHA-256 and imported names of a module's source file; ``stamp`` keys the cache, so an edit reads it again."""
    source = Path(path).read_bytes()
    return sha256_hex(source), frozenset(_imported_names(source.decode(), module, path.endswith("__init__.py")))


def _code_source(notebook: Path) -> str:
    """The notebook's code cells as one Python source, IPython magics and shell escapes left out."""
    lines = [
        line
        for kind, source in _cells(notebook)
        if kind == "code"
        for line in source.splitlines()
        if not line.lstrip().startswith(("%", "!"))
    ]
    return "\n".join(lines)


def package_code(notebook: str | Path, package: str = PACKAGE) -> dict[str, str]:
    """SHA-256 of every source file of ``package`` that a notebook's code imports, directly or transitively.

    Parameters
    ----------
    notebook : str or Path
        An ``.ipynb`` file.
    package : str
        The top-level package whose modules count (its other imports do not).

    Returns
    -------
    dict[str, str]
        Digest by file path relative to the folder holding the package (``celldino_utils/io/hpa.py``), sorted;
        the :data:`DATA_FILES` of the modules imported count too.

    Raises
    ------
    ValueError
        If a code cell is not Python, naming the notebook.
    """
    notebook = Path(notebook)
    try:
        pending = _imported_names(_code_source(notebook), "__main__", is_package=False)
    except SyntaxError as err:
        raise ValueError(f"{notebook}: a code cell is not Python ({err.msg}, line {err.lineno})") from None
    top = _module_file(package)
    if top is None:
        raise ValueError(f"package {package!r} is not installed")
    seen: set[str] = set()
    files: dict[str, str] = {}
    while pending:
        name = pending.pop()
        parts = name.split(".")
        if parts[0] != package or name in seen:
            continue
        seen.add(name)
        pending.update(".".join(parts[:i]) for i in range(1, len(parts)))  # importing runs each parent package
        path = _module_file(name)
        if path is None:
            continue
        digest, imported = _module_record(str(path), file_stamp(path), name)
        files[path.relative_to(top.parent.parent).as_posix()] = digest
        pending.update(imported)
        for data in DATA_FILES.get(name, ()):
            file = top.parent.parent / data
            files[data] = file_sha256(file) if file.exists() else MISSING
    return dict(sorted(files.items()))
