"""Nucleus centres of Cell Painting sites, read from the tables a CellProfiler analysis is published in.

Three layouts are read, chosen by the file's suffix:

- a CSV (``nuclei.csv``) with ``Metadata_Plate``, ``Metadata_Well``, ``Metadata_Site``, ``Metadata_ObjectNumber``
  and ``Nuclei_Location_Center_X/Y``;
- the per-plate CellProfiler SQLite of LINCS Level 2 (``.sqlite``), as cytominer-database writes it: a table
  ``Image`` (``TableNumber``, ``ImageNumber``, ``Image_Metadata_Plate``, ``Image_Metadata_Well``,
  ``Image_Metadata_Site``...) and a table ``Nuclei`` (``TableNumber``, ``ImageNumber``, ``ObjectNumber``,
  ``Nuclei_Location_Center_X/Y`` and hundreds of features), joined on ``TableNumber`` and ``ImageNumber``;
- CytoTable Parquet (``.parquet``, a file or a folder of files): one row per object, with ``Image_Metadata_*``
  (or ``Metadata_*``) keys, an object number and ``Nuclei_Location_Center_X/Y``.

The SQLite and Parquet readers take only the key and location columns (an SQL query of those columns; a
Parquet column projection), in chunks of rows, one file (plate) after the other: a plate of tens of GB never
sits in memory, only its centres do (about 30 bytes per nucleus).
"""

from __future__ import annotations

import glob
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads

from celldino_utils.io.cellpainting import CENTRE_COLUMNS, SITE_KEYS
from celldino_utils.io.files import NUCLEI_CSV
from celldino_utils.io.tables import read_csv, require_columns

#: Columns of a nucleus table, as every reader returns them.
NUCLEUS_COLUMNS = (*SITE_KEYS, "Metadata_ObjectNumber", *CENTRE_COLUMNS)
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
PARQUET_SUFFIX = ".parquet"
#: Rows fetched at a time from an SQLite or Parquet file (a chunk in flight costs about 1 kB a row).
CHUNK_ROWS = 20_000
#: The names each column of :data:`NUCLEUS_COLUMNS` goes by in published tables; the first one present is read.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "Metadata_Plate": ("Image_Metadata_Plate", "Metadata_Plate"),
    "Metadata_Well": ("Image_Metadata_Well", "Metadata_Well"),
    "Metadata_Site": ("Image_Metadata_Site", "Metadata_Site"),
    "Metadata_ObjectNumber": (
        "ObjectNumber",
        "Metadata_ObjectNumber",
        "Nuclei_ObjectNumber",
        "Nuclei_Number_Object_Number",
        "Metadata_Nuclei_Number_Object_Number",
    ),
    "Nuclei_Location_Center_X": ("Nuclei_Location_Center_X", "Metadata_Nuclei_Location_Center_X"),
    "Nuclei_Location_Center_Y": ("Nuclei_Location_Center_Y", "Metadata_Nuclei_Location_Center_Y"),
}
#: cytominer-database's tables and the keys that join them.
IMAGE_TABLE, NUCLEI_TABLE, JOIN_KEYS = "Image", "Nuclei", ("TableNumber", "ImageNumber")


def nucleus_files(data_dir: str | Path, nuclei: str) -> list[Path]:
    """The nucleus tables ``nuclei`` names: a file, or a glob pattern (``backend/*/*/*.sqlite``), under ``data_dir``.

    Raises
    ------
    FileNotFoundError
        Naming the pattern when nothing matches it.
    """
    pattern = Path(data_dir) / nuclei
    files = sorted(Path(p) for p in glob.glob(str(pattern)))
    if not files:
        raise FileNotFoundError(
            f"{pattern}: no nucleus table (nuclei={nuclei!r}: a CSV, a CellProfiler SQLite per plate or CytoTable "
            "Parquet, a file name or a glob pattern under the data folder)"
        )
    return files


def read_nucleus_centres(
    data_dir: str | Path, *, nuclei: str = NUCLEI_CSV, chunk_rows: int = CHUNK_ROWS
) -> pd.DataFrame:
    """Nucleus centres of every file ``nuclei`` names (see :func:`nucleus_files`), read file by file.

    Parameters
    ----------
    data_dir
        Folder the name or pattern is relative to (the Cell Painting data folder).
    nuclei
        ``nuclei.csv``, a CellProfiler SQLite (``backend/*/*/*.sqlite`` for one per plate) or CytoTable Parquet.
    chunk_rows
        Rows read at a time from an SQLite or Parquet file.

    Returns
    -------
    pandas.DataFrame
        :data:`NUCLEUS_COLUMNS`: plate and well (categorical), site and object number (int64), centre (x, y)
        in pixels (float64), one row per nucleus.

    Raises
    ------
    ValueError
        Naming the file: a missing table or column (with the names accepted), a nucleus without a centre or
        without an image row, or a nucleus listed twice.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive number of rows, got {chunk_rows}")
    chunks = (
        _checked(chunk, source=path) for path in nucleus_files(data_dir, nuclei) for chunk in _chunks(path, chunk_rows)
    )
    table = _gather(chunks)
    repeated = _repeated(table)
    if repeated.any():
        example = table.loc[repeated, list(NUCLEUS_COLUMNS[:4])].head(1).values.tolist()
        count = int(repeated.sum())
        raise ValueError(f"{Path(data_dir) / nuclei}: {count} nucleus row(s) listed twice, e.g. {example}")
    return table


def _chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The rows of one nucleus table, :data:`NUCLEUS_COLUMNS` only, in chunks."""
    name = path.name.lower()
    if name.endswith(SQLITE_SUFFIXES):
        yield from _sqlite_chunks(path, chunk_rows)
    elif name.endswith(PARQUET_SUFFIX):
        yield from _parquet_chunks(path, chunk_rows)
    elif name.endswith((".csv", ".csv.gz")):
        table = read_csv(path)
        require_columns(table, NUCLEUS_COLUMNS, source=path)
        yield table[list(NUCLEUS_COLUMNS)]
    else:
        expected = ", ".join((".csv", ".csv.gz", *SQLITE_SUFFIXES, PARQUET_SUFFIX))
        raise ValueError(f"{path}: unknown nucleus table; expected one of {expected}")


def _pick(available: Sequence[str], *, source: str, columns: Sequence[str] = NUCLEUS_COLUMNS) -> dict[str, str]:
    """``{our column: its name in the table}`` for ``columns``, the first alias of each that ``available`` holds."""
    present = set(available)
    picked, missing = {}, []
    for column in columns:
        name = next((alias for alias in ALIASES[column] if alias in present), None)
        if name is None:
            missing.append(f"{column} (as one of {list(ALIASES[column])})")
        else:
            picked[column] = name
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}")
    return picked


def _sqlite_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Nucleus rows of a cytominer-database SQLite: ``Nuclei`` left-joined to ``Image``, key columns only."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in (IMAGE_TABLE, NUCLEI_TABLE) if t not in tables]
        if missing:
            raise ValueError(f"{path}: missing table(s) {missing}; its tables are {sorted(tables)}")
        image, nucleus = (
            [row[1] for row in connection.execute(f'PRAGMA table_info("{t}")')] for t in (IMAGE_TABLE, NUCLEI_TABLE)
        )
        keys = [k for k in JOIN_KEYS if k in image and k in nucleus]
        if "ImageNumber" not in keys:
            raise ValueError(f"{path}: tables {IMAGE_TABLE} and {NUCLEI_TABLE} must both hold ImageNumber")
        from_image = _pick(image, source=f"{path} table {IMAGE_TABLE}", columns=SITE_KEYS)
        from_nucleus = _pick(nucleus, source=f"{path} table {NUCLEI_TABLE}", columns=NUCLEUS_COLUMNS[3:])
        selected = [f'i."{name}" AS "{column}"' for column, name in from_image.items()]
        selected += [f'n."{name}" AS "{column}"' for column, name in from_nucleus.items()]
        join = " AND ".join(f'n."{k}" = i."{k}"' for k in keys)
        query = f'SELECT {", ".join(selected)} FROM "{NUCLEI_TABLE}" AS n LEFT JOIN "{IMAGE_TABLE}" AS i ON {join}'
        yield from pd.read_sql_query(query, connection, chunksize=chunk_rows)


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Nucleus rows of a CytoTable Parquet file or folder: the key and location columns only, batch by batch."""
    dataset = pads.dataset(path, format="parquet")
    picked = _pick(dataset.schema.names, source=str(path))
    renamed = {name: column for column, name in picked.items()}
    for batch in dataset.to_batches(columns=list(picked.values()), batch_size=chunk_rows):
        yield batch.to_pandas().rename(columns=renamed)


def _checked(chunk: pd.DataFrame, *, source: Path) -> pd.DataFrame:
    """One chunk, after refusing nuclei without an image row (no plate, well or site) or without a centre."""
    no_image = chunk[list(SITE_KEYS)].isna().any(axis=1)
    if no_image.any():
        raise ValueError(f"{source}: {int(no_image.sum())} nucleus row(s) without plate, well or site (no image row)")
    no_centre = chunk[list(CENTRE_COLUMNS)].isna().any(axis=1)
    if no_centre.any():
        raise ValueError(f"{source}: {int(no_centre.sum())} nucleus row(s) without a centre")
    return chunk


def _gather(chunks: Iterator[pd.DataFrame]) -> pd.DataFrame:
    """The chunks as one table: plate and well as categorical codes grown chunk by chunk, the other columns as
    compact arrays, each column joined and its pieces dropped in turn, so the peak is the table and one column."""
    text = ("Metadata_Plate", "Metadata_Well")
    vocabulary: dict[str, dict[str, int]] = {column: {} for column in text}
    pieces: dict[str, list[np.ndarray]] = {column: [] for column in NUCLEUS_COLUMNS}
    for chunk in chunks:
        for column in text:
            values = chunk[column].astype(str)
            for value in values.unique():
                vocabulary[column].setdefault(value, len(vocabulary[column]))
            pieces[column].append(values.map(vocabulary[column]).to_numpy(np.int32))
        pieces["Metadata_Site"].append(pd.to_numeric(chunk["Metadata_Site"]).to_numpy(np.int64))
        pieces["Metadata_ObjectNumber"].append(pd.to_numeric(chunk["Metadata_ObjectNumber"]).to_numpy(np.int64))
        for column in CENTRE_COLUMNS:
            pieces[column].append(chunk[column].to_numpy(np.float64))
    columns = {}
    for column in NUCLEUS_COLUMNS:
        joined = np.concatenate(pieces.pop(column)) if pieces[column] else np.empty(0, np.int32)
        if column in text:
            joined = pd.Categorical.from_codes(joined, categories=list(vocabulary[column]))
        columns[column] = joined
    return pd.DataFrame(columns, copy=False)


def _repeated(table: pd.DataFrame) -> np.ndarray:
    """Whether each nucleus repeats an earlier one (same plate, well, site and object number), through one sorted
    int64 key rather than a hash table of the four columns."""
    key = np.zeros(len(table), dtype=np.int64)
    for column in NUCLEUS_COLUMNS[:4]:
        values = table[column]
        codes = values.cat.codes.to_numpy(np.int64) if isinstance(values.dtype, pd.CategoricalDtype) else values
        codes = np.asarray(codes, dtype=np.int64)
        key = key * (int(codes.max(initial=0)) + 1) + codes
    order = np.argsort(key, kind="stable")
    repeated = np.zeros(len(table), dtype=bool)
    repeated[order[1:]] = key[order[1:]] == key[order[:-1]]
    return repeated


def write_nuclei_sqlite(nuclei: pd.DataFrame, path: str | Path) -> Path:
    """Write nucleus centres as cytominer-database writes one plate of a CellProfiler analysis (fixtures, benchmarks).

    Parameters
    ----------
    nuclei
        :data:`NUCLEUS_COLUMNS` and any ``Nuclei_*`` feature columns, one row per nucleus.
    path
        The SQLite file to create (it must not exist).

    Returns
    -------
    Path
        ``path``, with a table ``Image`` (``TableNumber`` one per well, ``ImageNumber`` restarting in each,
        ``Image_Metadata_Plate``, ``Image_Metadata_Well``, ``Image_Metadata_Site``, ``Image_Count_Nuclei``) and a
        table ``Nuclei`` (``TableNumber``, ``ImageNumber``, ``ObjectNumber``, then the ``Nuclei_*`` columns).
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: exists; write_nuclei_sqlite creates a new file")
    require_columns(nuclei, NUCLEUS_COLUMNS, source="write_nuclei_sqlite(nuclei)")
    nuclei = nuclei.reset_index(drop=True)
    sites = nuclei[list(SITE_KEYS)]
    table_number = sites.groupby(["Metadata_Plate", "Metadata_Well"], sort=True).ngroup().to_numpy() + 1
    image_number = sites.groupby(list(SITE_KEYS), sort=True).ngroup().to_numpy()
    image_number = image_number - pd.Series(image_number).groupby(table_number).transform("min").to_numpy() + 1
    keys = pd.DataFrame({"TableNumber": table_number, "ImageNumber": image_number})
    image = pd.concat([keys, sites.add_prefix("Image_")], axis=1).groupby(list(JOIN_KEYS), sort=True).first()
    image["Image_Count_Nuclei"] = keys.groupby(list(JOIN_KEYS)).size()
    objects = nuclei[[c for c in nuclei.columns if c.startswith("Nuclei_")]]
    table = pd.concat([keys, nuclei["Metadata_ObjectNumber"].rename("ObjectNumber"), objects], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as connection:
        image.reset_index().to_sql(IMAGE_TABLE, connection, index=False)
        table.to_sql(NUCLEI_TABLE, connection, index=False, chunksize=50_000)
        connection.commit()
    return path
