"""Index readers for Cell Painting sites described by a CellProfiler ``load_data.csv``.

The Cell Painting Gallery ships, per plate, a ``load_data.csv`` with one row per
site: ``Metadata_Plate``, ``Metadata_Well``, ``Metadata_Site`` and, per channel,
``FileName_Orig<Channel>`` and ``PathName_Orig<Channel>``. A platemap (compound,
mechanism, dose) may be in the same table or in a separate CSV joined on plate
and well. Nucleus centres come from a CellProfiler per-object table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from celldino_utils.io.channels import CELLPAINTING
from celldino_utils.io.hpa import PATHS_COLUMN
from celldino_utils.io.tables import read_csv, require_columns

SITE_KEYS = ("Metadata_Plate", "Metadata_Well", "Metadata_Site")
CENTRE_COLUMNS = ("Nuclei_Location_Center_X", "Nuclei_Location_Center_Y")


def _channel_columns() -> list[str]:
    return [f"{kind}_Orig{tag}" for tag in CELLPAINTING.file_tags for kind in ("FileName", "PathName")]


def _resolve(folder: str, name: str, *, root: Path) -> Path:
    path = Path(str(folder)) / str(name)
    return path if path.is_absolute() else root / path


def read_cellpainting(
    data_dir: str | Path,
    *,
    load_data_csv: str = "load_data.csv",
    platemap_csv: str | None = None,
) -> pd.DataFrame:
    """Index Cell Painting sites, one row per site, channels in the order DNA, ER, RNA, AGP, Mito.

    Parameters
    ----------
    data_dir
        Folder of ``load_data_csv``; relative ``PathName_*`` values are resolved against it.
    platemap_csv
        Optional table with ``Metadata_Plate``, ``Metadata_Well`` and treatment columns, joined on plate and well.

    Returns
    -------
    pandas.DataFrame
        Every ``Metadata_*`` column of the load-data table (and platemap), plus ``Metadata_Id``
        (``plate/well/site``) and ``_paths`` (one file per channel).
    """
    data_dir = Path(data_dir)
    source = data_dir / load_data_csv
    table = read_csv(source)
    require_columns(table, [*SITE_KEYS, *_channel_columns()], source=source)
    duplicated = table.duplicated(list(SITE_KEYS))
    if duplicated.any():
        raise ValueError(f"{source}: {int(duplicated.sum())} duplicated plate/well/site rows")
    index = table[[c for c in table.columns if c.startswith("Metadata_")]].copy()
    if platemap_csv is not None:
        index = _join_platemap(index, data_dir / platemap_csv)
    index.insert(
        0,
        "Metadata_Id",
        (
            index["Metadata_Plate"].astype(str)
            + "/"
            + index["Metadata_Well"].astype(str)
            + "/s"
            + index["Metadata_Site"].astype(str)
        ),
    )
    index[PATHS_COLUMN] = [
        tuple(
            _resolve(row[f"PathName_Orig{tag}"], row[f"FileName_Orig{tag}"], root=data_dir)
            for tag in CELLPAINTING.file_tags
        )
        for _, row in table.iterrows()
    ]
    return index.reset_index(drop=True)


def _join_platemap(index: pd.DataFrame, platemap_csv: Path) -> pd.DataFrame:
    platemap = read_csv(platemap_csv)
    keys = ["Metadata_Plate", "Metadata_Well"]
    require_columns(platemap, keys, source=platemap_csv)
    platemap = platemap.drop(columns=[c for c in platemap.columns if c in index.columns and c not in keys])
    joined = index.merge(platemap, on=keys, how="left", indicator=True, validate="many_to_one")
    missing = joined.loc[joined["_merge"] == "left_only", keys]
    if len(missing):
        raise ValueError(
            f"{platemap_csv}: no platemap row for {len(missing)} site(s), e.g. {missing.head(3).values.tolist()}"
        )
    return joined.drop(columns="_merge")


def read_nucleus_centres(data_dir: str | Path, *, nuclei_csv: str = "nuclei.csv") -> pd.DataFrame:
    """Read a CellProfiler-style nucleus table: plate, well, site, object number and centre (x, y) in pixels."""
    source = Path(data_dir) / nuclei_csv
    table = read_csv(source)
    require_columns(table, [*SITE_KEYS, "Metadata_ObjectNumber", *CENTRE_COLUMNS], source=source)
    bad = table[list(CENTRE_COLUMNS)].isna().any(axis=1)
    if bad.any():
        raise ValueError(f"{source}: {int(bad.sum())} nucleus row(s) without a centre")
    return table
