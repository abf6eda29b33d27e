"""Per-step CSV log of losses, schedule values and the teacher's entropy (rank 0 only)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

LOG_NAME = "train_log.csv"


class StepLog:
    """Append one row per step to a CSV file; on resume, rows of steps not yet re-done are dropped first.

    Parameters
    ----------
    path
        CSV file.
    start_step
        First step of this run: rows with ``step >= start_step`` from an interrupted run are removed.
    """

    def __init__(self, path: str | Path, *, start_step: int = 0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fields: list[str] | None = None
        if self.path.exists() and start_step > 0:
            kept = pd.read_csv(self.path)
            kept = kept[kept["step"] < start_step]
            kept.to_csv(self.path, index=False)
            self._fields = list(kept.columns)
        elif self.path.exists():
            self.path.unlink()

    def write(self, row: dict[str, float | int]) -> None:
        """Append ``row``; the first row fixes the columns, later rows must have the same keys."""
        if self._fields is None:
            self._fields = list(row)
            with self.path.open("w", newline="") as handle:
                csv.writer(handle).writerow(self._fields)
        if set(row) != set(self._fields):
            raise ValueError(f"{self.path}: row keys {sorted(row)} differ from the columns {sorted(self._fields)}")
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self._fields).writerow(row)


def read_log(path: str | Path) -> pd.DataFrame:
    """The training log as a DataFrame (one row per step)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training log not found: {path}")
    return pd.read_csv(path)
