"""How a chapter shows what it made: figures saved then closed, paths relative to the project root (no output
names the machine's own folders)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from celldino_utils.config import project_root, resolve_path
from celldino_utils.plot import save_figure


def shown_path(path: str | Path) -> str:
    """``path`` relative to the project root when it lies under it, else as given (a parameter's own path).

    Released names and other values that are not absolute paths are returned unchanged.
    """
    text = str(path)
    if not Path(text).is_absolute():
        return text
    root = project_root()
    return Path(text).relative_to(root).as_posix() if Path(text).is_relative_to(root) else text


def shown_paths(table: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``table`` with the paths in ``columns`` as :func:`shown_path` shows them (columns it lacks are skipped)."""
    return table.assign(**{c: table[c].map(shown_path) for c in columns if c in table})


def shown_text(text: str, paths: dict[str, str | Path]) -> str:
    """``text`` (an error message, a command) with each resolved path of ``paths`` replaced by its given form.

    ``paths`` maps the given form (a parameter) to the path it resolved to.
    """
    for given, resolved in paths.items():
        text = text.replace(str(resolved), given)
    return text


def shown_figure(figure: Figure, out_dir: str | Path, name: str) -> Figure:
    """``figure`` saved as ``out_dir/name.png`` and ``.pdf``, then closed: it shows only where a notebook names it.

    ``out_dir`` is a parameter as given (resolved under the project root).
    """
    save_figure(figure, resolve_path(out_dir), name)
    plt.close(figure)
    return figure
