"""The table chapters' inputs: profile files read by method, with the published split attached (Tables A and B)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from celldino_utils.evaluate.splits import attach_split
from celldino_utils.io.published import read_profile_table
from celldino_utils.io.tables import read_csv


def read_localisation_cells(
    inputs: Mapping[str, str | Path],
    *,
    label_col: str,
    names_sep: str | None,
    splits_csv: str | Path | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Single-cell profiles by method for Tables A and B, each with the published split when one is given.

    Parameters
    ----------
    inputs
        Method -> profile file (our Parquet, or published CSV/CSV.gz).
    label_col, names_sep
        The labels' column; with ``names_sep`` None they are class indices and ``Metadata_class_list`` is
        required too (:func:`celldino_utils.evaluate.protocols.regroup_labels`).
    splits_csv
        A published split (``antibody,split``, SubCell's): attached as ``Metadata_split``; the cells of
        antibodies it leaves out are left out. None: no split attached (the protocol draws one per seed).

    Returns
    -------
    (cells, left_out)
        Profiles by method, and how many cells of each the published split left out (empty without one).
    """
    required: Sequence[str] = ["Metadata_Id", "Metadata_antibody", label_col]
    if names_sep is None:
        required = [*required, "Metadata_class_list"]
    cells = {method: read_profile_table(path, require=required) for method, path in inputs.items()}
    left_out: dict[str, int] = {}
    if splits_csv:
        splits = read_csv(splits_csv)
        for method, table in cells.items():
            cells[method], left_out[method] = attach_split(table, splits, source=str(splits_csv))
    return cells, left_out
