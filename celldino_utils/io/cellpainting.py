"""Index readers for Cell Painting sites described by a CellProfiler ``load_data.csv``.

The Cell Painting Gallery ships, per plate, a ``load_data.csv`` with one row per
site: ``Metadata_Plate``, ``Metadata_Well``, ``Metadata_Site`` and, per channel,
``FileName_Orig<Channel>`` and ``PathName_Orig<Channel>``. These columns alone say
which file is which stain (the files are named by the instrument). A platemap (compound,
mechanism, dose) may be in the same table or in a separate CSV joined on plate
and well. Nucleus centres come from a CellProfiler per-object table (:mod:`celldino_utils.io.nuclei`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from celldino_utils.io.channels import CELLPAINTING
from celldino_utils.io.files import LOAD_DATA_CSV
from celldino_utils.io.hpa import PATHS_COLUMN
from celldino_utils.io.published import DOSE_COLUMN, add_lincs_columns
from celldino_utils.io.tables import read_csv, require_columns

SITE_KEYS = ("Metadata_Plate", "Metadata_Well", "Metadata_Site")
CENTRE_COLUMNS = ("Nuclei_Location_Center_X", "Nuclei_Location_Center_Y")


def channel_tags(channel_map: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``FileName_Orig<tag>`` column tag of each Cell Painting channel, in channel order.

    Parameters
    ----------
    channel_map
        Our channel -> the data set's tag, for data sets that name stains differently, e.g.
        ``{"DNA": "Hoechst"}`` reads DNA from ``FileName_OrigHoechst``. Channels left out keep
        the tags of :data:`~celldino_utils.io.channels.CELLPAINTING`.

    Returns
    -------
    dict
        ``{channel: tag}`` for DNA, ER, RNA, AGP, Mito. Raises ValueError for an unknown channel
        or for two channels read from one column.
    """
    channel_map = dict(channel_map or {})
    unknown = sorted(set(channel_map) - set(CELLPAINTING.channels))
    if unknown:
        raise ValueError(
            f"channel_map: unknown channel(s) {unknown}; the Cell Painting channels are {list(CELLPAINTING.channels)}"
        )
    tags = {
        c: str(channel_map.get(c, tag)) for c, tag in zip(CELLPAINTING.channels, CELLPAINTING.file_tags, strict=True)
    }
    shared = sorted(tag for tag, n in Counter(tags.values()).items() if n > 1)
    if shared:
        raise ValueError(f"channel_map: several channels read from FileName_Orig{shared[0]}: {tags}")
    return tags


def _channel_files(table: pd.DataFrame, tags: dict[str, str], *, root: Path, source: Path) -> list[tuple[Path, ...]]:
    """One tuple of files per row, in channel order, from the ``FileName_Orig*`` / ``PathName_Orig*`` columns.

    ``PathName_Orig<tag>`` is optional; relative folders and file names are resolved against ``root``.
    """
    missing = [f"FileName_Orig{tag} (channel {c})" for c, tag in tags.items() if f"FileName_Orig{tag}" not in table]
    if missing:
        found = [c for c in table.columns if str(c).startswith("FileName_")]
        raise ValueError(f"{source}: missing column(s) {missing}; its FileName columns are {found}")
    columns = []
    for tag in tags.values():
        names = table[f"FileName_Orig{tag}"]
        blank = names.isna() | (names.astype(str).str.strip() == "")
        if blank.any():
            site = table.loc[blank, list(SITE_KEYS)].head(1).values.tolist()
            raise ValueError(f"{source}: {int(blank.sum())} row(s) without a file in FileName_Orig{tag}, e.g. {site}")
        folders = table.get(f"PathName_Orig{tag}", pd.Series("", index=table.index)).fillna("")
        columns.append([resolve_file(folder, name, root=root) for folder, name in zip(folders, names, strict=True)])
    return list(zip(*columns, strict=True))


def resolve_file(folder: str, name: str, *, root: Path) -> Path:
    """``folder/name``, under ``root`` unless absolute (a ``PathName_*`` and ``FileName_*`` pair of an index)."""
    path = Path(str(folder)) / str(name)
    return path if path.is_absolute() else root / path


def read_cellpainting(
    data_dir: str | Path,
    *,
    load_data_csv: str = LOAD_DATA_CSV,
    platemap_csv: str | None = None,
    channel_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Index Cell Painting sites, one row per site, channels in the order DNA, ER, RNA, AGP, Mito.

    Which file holds which stain comes only from the ``FileName_Orig<tag>`` columns, never from
    the file names, so instrument names (``r03c03f03p01-ch5sk1fk1fl1.tiff``) are read as they are.

    Parameters
    ----------
    data_dir
        Folder of ``load_data_csv``; relative ``PathName_*`` values, and ``FileName_*`` values of
        channels without a ``PathName_*`` column, are resolved against it.
    platemap_csv
        Optional table with ``Metadata_Plate``, ``Metadata_Well`` and treatment columns, joined on plate and well;
        with ``Metadata_mmoles_per_liter`` (LINCS) and no dose code, ``Metadata_dose_recode`` and the DMSO controls
        (``Metadata_pert_type``) are derived as for published profiles (:func:`add_lincs_columns`).
    channel_map
        Our channel -> the data set's column tag, e.g. ``{"DNA": "Hoechst"}``; see :func:`channel_tags`.

    Returns
    -------
    pandas.DataFrame
        Every ``Metadata_*`` column of the load-data table (and platemap), plus ``Metadata_Id``
        (``plate/well/site``) and ``_paths`` (one file per channel).
    """
    data_dir = Path(data_dir)
    source = data_dir / load_data_csv
    tags = channel_tags(channel_map)
    table = read_csv(source)
    require_columns(table, SITE_KEYS, source=source)
    duplicated = table.duplicated(list(SITE_KEYS))
    if duplicated.any():
        raise ValueError(f"{source}: {int(duplicated.sum())} duplicated plate/well/site rows")
    paths = _channel_files(table, tags, root=data_dir, source=source)
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
    index[PATHS_COLUMN] = paths
    return index.reset_index(drop=True)


def _join_platemap(index: pd.DataFrame, platemap_csv: Path) -> pd.DataFrame:
    platemap = read_csv(platemap_csv)
    keys = ["Metadata_Plate", "Metadata_Well"]
    require_columns(platemap, keys, source=platemap_csv)
    platemap = platemap.drop(columns=[c for c in platemap.columns if c in index.columns and c not in keys])
    if DOSE_COLUMN in platemap.columns:
        platemap = add_lincs_columns(platemap, source=platemap_csv)
    joined = index.merge(platemap, on=keys, how="left", indicator=True, validate="many_to_one")
    missing = joined.loc[joined["_merge"] == "left_only", keys]
    if len(missing):
        raise ValueError(
            f"{platemap_csv}: no platemap row for {len(missing)} site(s), e.g. {missing.head(3).values.tolist()}"
        )
    return joined.drop(columns="_merge")
