"""One parameters cell per executed notebook: papermill's injected values written into the notebook's own cell.

Papermill adds the run's values as a new cell after the ``parameters`` cell, so a book built from the executed
copy shows every parameter twice, once with the notebook's comments and defaults and once with the values used.
:func:`fold_parameters` keeps one cell: the notebook's own, with each value the run changed replaced in place
(its comment kept) and any value the notebook does not declare added at the end.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"
#: Longest line of a rewritten assignment before a dict is written one entry a line (the project's line length).
LINE_LENGTH = 120


def _assigned(source: str) -> dict[str, ast.Assign]:
    """Top-level ``name = value`` statements of a cell, by name."""
    return {
        node.targets[0].id: node
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
    }


def _assignment(name: str, value: ast.expr, source: str, comment: str) -> list[str]:
    """``name = value`` as lines of at most :data:`LINE_LENGTH` characters where a dict allows: one entry a line."""
    text = f"{name} = {ast.get_source_segment(source, value)}{comment}"
    if len(text) <= LINE_LENGTH or not isinstance(value, ast.Dict) or None in value.keys:
        return [text]
    entries = [
        f"    {ast.get_source_segment(source, key)}: {ast.get_source_segment(source, item)},"
        for key, item in zip(value.keys, value.values, strict=True)
    ]
    return [f"{name} = {{", *entries, f"}}{comment}"]


def folded_source(own: str, injected: str) -> str:
    """The source of a parameters cell ``own`` with the values of papermill's ``injected`` cell written into it.

    An assignment whose value the run changed is rewritten on its own lines (a comment after it is kept); one
    with the same value keeps its text; names only ``injected`` assigns are appended in its order.
    """
    lines = own.splitlines()
    declared, given = _assigned(own), _assigned(injected)
    for name in sorted(declared, key=lambda n: declared[n].lineno, reverse=True):  # bottom up: line numbers hold
        node = declared[name]
        if name not in given or ast.literal_eval(node.value) == ast.literal_eval(given[name].value):
            continue
        comment = lines[node.end_lineno - 1].encode()[node.value.end_col_offset :].decode()  # offsets count bytes
        lines[node.lineno - 1 : node.end_lineno] = _assignment(name, given[name].value, injected, comment)
    lines += [ast.get_source_segment(injected, given[name]) for name in given if name not in declared]
    return "\n".join(lines)


def fold_parameters(executed: str | Path) -> None:
    """Rewrite an executed notebook so that it holds one parameters cell, with the values it ran with.

    Nothing changes in a notebook without papermill's injected cell (run with its own defaults).
    """
    notebook = nbformat.read(executed, as_version=4)
    tags = [set(cell.metadata.get("tags", [])) for cell in notebook.cells]
    injected = [i for i, cell_tags in enumerate(tags) if INJECTED_TAG in cell_tags]
    own = [i for i, cell_tags in enumerate(tags) if PARAMETERS_TAG in cell_tags]
    if not injected or not own:
        return
    cell = notebook.cells[own[0]]
    cell.source = folded_source(cell.source, notebook.cells[injected[0]].source)
    del notebook.cells[injected[0]]
    nbformat.write(notebook, executed)
