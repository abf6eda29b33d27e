"""Published CellProfiler profiles (Cell Painting Gallery, LINCS) read into the profile schema.

Published profiles are CSV, gzipped CSV or Parquet tables with ``Metadata_*`` columns and
CellProfiler features named by compartment (``Cells_AreaShape_Area``, ``Cytoplasm_...``,
``Nuclei_...``, ``Image_...``). The LINCS profiles (Way et al. 2022) give the dose in µM in
``Metadata_mmoles_per_liter`` but no dose code: the reader adds ``Metadata_dose_recode`` and marks
the controls in ``Metadata_pert_type``, the columns that MoA prediction (Table D) and sphering use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from celldino_utils.io.profiles import (
    CELLPROFILER_PREFIXES,
    CONTROL_COLUMN,
    CONTROL_VALUE,
    METADATA_PREFIX,
    check_profiles,
    feature_columns,
    metadata_columns,
    read_profiles,
    require_metadata,
)
from celldino_utils.io.tables import read_csv

#: The six LINCS doses in µM; dose code ``k`` (1..6) is the ``k``-th, 0 is the DMSO control.
LINCS_DOSES_UM: tuple[float, ...] = (0.04, 0.12, 0.37, 1.11, 3.33, 10.0)
DOSE_COLUMN = "Metadata_mmoles_per_liter"
DOSE_CODE_COLUMN = "Metadata_dose_recode"
TREATED_VALUE = "trt"
#: A row whose compound name in one of these columns is DMSO is a control.
CONTROL_NAME = "DMSO"
CONTROL_NAME_COLUMNS = ("Metadata_pert_iname", "Metadata_broad_sample")
PROFILE_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def lincs_dose_recode(doses_um: np.ndarray | pd.Series) -> np.ndarray:
    """LINCS dose codes: the nearest of :data:`LINCS_DOSES_UM` on a log scale, 1..6; 0 for no dose.

    Parameters
    ----------
    doses_um
        Shape ``(N,)``, doses in µM, non-negative; 0 or NaN means no compound (a control).

    Returns
    -------
    numpy.ndarray
        Shape ``(N,)``, int64 codes in 0..6 (doses above 10 µM get 6, below 0.04 µM get 1).
    """
    doses = np.asarray(doses_um, dtype=float)
    given = np.nan_to_num(doses) > 0
    distance = np.abs(np.log(doses[given])[:, None] - np.log(LINCS_DOSES_UM)[None, :])
    codes = np.zeros(len(doses), dtype=np.int64)
    codes[given] = distance.argmin(axis=1) + 1
    return codes


def _read_table(path: Path) -> pd.DataFrame:
    """Read a CSV, CSV.gz or Parquet table; the errors name the file."""
    if not path.name.lower().endswith(PROFILE_SUFFIXES):
        raise ValueError(f"{path}: unknown profile file extension; expected one of {list(PROFILE_SUFFIXES)}")
    if not path.name.lower().endswith(".parquet"):
        return read_csv(path)
    if not path.exists():
        raise FileNotFoundError(f"profile file not found: {path}")
    return pd.read_parquet(path)


def _check_columns(table: pd.DataFrame, *, source: Path) -> None:
    """Raise ValueError naming ``source`` unless every column is ``Metadata_*`` or a CellProfiler feature."""
    metadata = metadata_columns(table)
    if not metadata:
        raise ValueError(f"{source}: no {METADATA_PREFIX}* columns; found {list(table.columns)[:8]}")
    features = [c for c in table.columns if str(c).startswith(CELLPROFILER_PREFIXES)]
    other = [c for c in table.columns if c not in metadata and c not in features]
    if other:
        raise ValueError(
            f"{source}: column(s) {other[:5]} are neither {METADATA_PREFIX}* nor CellProfiler features "
            f"({', '.join(p + '*' for p in CELLPROFILER_PREFIXES)})"
        )
    if not features:
        raise ValueError(f"{source}: no feature columns ({', '.join(p + '*' for p in CELLPROFILER_PREFIXES)})")


def _lincs_controls(table: pd.DataFrame, doses: pd.Series) -> pd.Series:
    """True for the controls: DMSO in a compound-name column, or no dose (0 or NaN)."""
    controls = doses.isna() | (doses == 0)
    for column in CONTROL_NAME_COLUMNS:
        if column in table.columns:
            controls |= table[column].astype(str).str.strip() == CONTROL_NAME
    return controls


def add_lincs_columns(table: pd.DataFrame, *, source: str | Path) -> pd.DataFrame:
    """Add the dose code (when missing) and mark the controls, from ``Metadata_mmoles_per_liter``.

    Used for published profiles and for LINCS platemaps alike; ``source`` names the file in errors.
    """
    try:
        doses = pd.to_numeric(table[DOSE_COLUMN])
    except (ValueError, TypeError) as err:
        raise ValueError(f"{source}: column {DOSE_COLUMN} is not numeric: {err}") from None
    if (doses < 0).any():
        raise ValueError(f"{source}: column {DOSE_COLUMN} has {int((doses < 0).sum())} negative dose(s)")
    controls = _lincs_controls(table, doses)
    table = table.copy()
    if DOSE_CODE_COLUMN not in table.columns:
        table[DOSE_CODE_COLUMN] = np.where(controls, 0, lincs_dose_recode(doses))
    if CONTROL_COLUMN in table.columns:
        table[CONTROL_COLUMN] = table[CONTROL_COLUMN].where(~controls, CONTROL_VALUE)
    else:
        table[CONTROL_COLUMN] = np.where(controls, CONTROL_VALUE, TREATED_VALUE)
    return table


def read_published(path: str | Path) -> pd.DataFrame:
    """Read published CellProfiler profiles (CSV, CSV.gz or Parquet) into the profile schema.

    Parameters
    ----------
    path
        A table with ``Metadata_*`` columns and numeric features whose names start with a
        CellProfiler compartment (:data:`~celldino_utils.io.profiles.CELLPROFILER_PREFIXES`).

    Returns
    -------
    pandas.DataFrame
        One row per row of the file: its ``Metadata_*`` columns, then its features, both in file
        order. With ``Metadata_mmoles_per_liter`` (LINCS) the metadata also hold
        ``Metadata_dose_recode`` (computed by :func:`lincs_dose_recode` unless the file has it;
        0 for controls) and ``Metadata_pert_type`` (``"control"`` for DMSO and undosed rows,
        otherwise the file's value, or ``"trt"`` when the file has no such column).

    Raises
    ------
    ValueError
        Naming the file and the column: unknown extension, no ``Metadata_*`` column, a column
        that is neither metadata nor a CellProfiler feature, no feature, a non-numeric or
        non-finite feature, a non-numeric or negative dose.
    """
    path = Path(path)
    table = _read_table(path)
    _check_columns(table, source=path)
    if DOSE_COLUMN in table.columns:
        table = add_lincs_columns(table, source=path)
    profiles = table[metadata_columns(table) + feature_columns(table)].reset_index(drop=True)
    check_profiles(profiles, source=str(path))
    return profiles


def read_profile_table(path: str | Path, *, require: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Profiles from either kind of file: ours (Parquet, :func:`read_profiles`) or published CellProfiler ones.

    A ``.parquet`` file is read as our schema; ``.csv`` and ``.csv.gz`` files with :func:`read_published`, so
    the public LINCS profiles sit beside our embeddings in a table. ``require`` names metadata columns that
    must be present and filled.
    """
    if Path(path).suffix == ".parquet":
        return read_profiles(path, require=require)
    profiles = read_published(path)
    require_metadata(profiles, list(require), source=str(path))
    return profiles
