"""Read metadata tables with errors that name the file and the column."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV file, raising FileNotFoundError or ValueError that name the file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"table not found: {path}")
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"unreadable table {path}: {err}") from err
    if table.empty:
        raise ValueError(f"table {path} has no rows")
    return table


def require_columns(table: pd.DataFrame, columns: Iterable[str], *, source: str | Path) -> None:
    """Raise ValueError naming ``source`` and every missing column."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; found {list(table.columns)}")


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a result table as CSV (no index), creating the folder; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return path
