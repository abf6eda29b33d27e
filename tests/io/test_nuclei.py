"""Nucleus centres from nuclei.csv, from the CellProfiler SQLite of each plate and from CytoTable Parquet."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from celldino_utils.io import open_cells
from celldino_utils.io.nuclei import NUCLEUS_COLUMNS, read_nucleus_centres, write_nuclei_sqlite


def _nuclei(plate: str = "SQ00014812", n_per_site: int = 3) -> pd.DataFrame:
    """Nuclei of two wells of two sites each: ``n_per_site`` per site, numbered from 1 within a site."""
    rows = []
    for well in ("A01", "B02"):
        for site in (1, 2):
            for number in range(1, n_per_site + 1):
                rows.append((plate, well, site, number, 10.0 * number + site, 5.0 * number + 0.5))
    return pd.DataFrame(rows, columns=list(NUCLEUS_COLUMNS))


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """The centres with plate and well as text, for comparing with a table read from CSV."""
    return table.astype({"Metadata_Plate": str, "Metadata_Well": str})


def test_the_sqlite_has_cytominer_database_tables_and_reads_back_its_centres(tmp_path: Path) -> None:
    nuclei = _nuclei().assign(Nuclei_AreaShape_Area=50.0)
    path = write_nuclei_sqlite(nuclei, tmp_path / "SQ00014812.sqlite")
    with sqlite3.connect(path) as connection:
        image = pd.read_sql_query("SELECT * FROM Image", connection)
        objects = pd.read_sql_query("SELECT * FROM Nuclei", connection)
    assert list(image.columns) == [
        "TableNumber", "ImageNumber", "Image_Metadata_Plate", "Image_Metadata_Well", "Image_Metadata_Site",
        "Image_Count_Nuclei",
    ]  # fmt: skip
    assert list(objects.columns) == [
        "TableNumber", "ImageNumber", "ObjectNumber", "Nuclei_Location_Center_X", "Nuclei_Location_Center_Y",
        "Nuclei_AreaShape_Area",
    ]  # fmt: skip
    assert image["ImageNumber"].tolist() == [1, 2, 1, 2]  # restarts in each table: the join needs both keys
    read = read_nucleus_centres(tmp_path, nuclei="SQ00014812.sqlite")
    assert list(read.columns) == list(NUCLEUS_COLUMNS)
    assert isinstance(read["Metadata_Plate"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(_plain(read), _nuclei())


def test_plates_are_read_file_by_file_in_chunks_like_the_csv(tmp_path: Path) -> None:
    for plate in ("SQ00014813", "SQ00014812"):
        write_nuclei_sqlite(_nuclei(plate), tmp_path / "backend" / "batch1" / plate / f"{plate}.sqlite")
    both = pd.concat([_nuclei("SQ00014812"), _nuclei("SQ00014813")], ignore_index=True)
    both.to_csv(tmp_path / "nuclei.csv", index=False)
    from_csv = read_nucleus_centres(tmp_path)
    pd.testing.assert_frame_equal(_plain(from_csv), both)
    for chunk_rows in (1, 5, 100):
        read = read_nucleus_centres(tmp_path, nuclei="backend/*/*/*.sqlite", chunk_rows=chunk_rows)
        pd.testing.assert_frame_equal(read, from_csv)


def test_cytotable_parquet_is_read_by_its_column_names(tmp_path: Path) -> None:
    nuclei = _nuclei()
    table = pd.DataFrame(
        {
            "Metadata_ImageNumber": np.repeat(np.arange(1, 5), 3),
            "Image_Metadata_Plate": nuclei["Metadata_Plate"],
            "Image_Metadata_Well": nuclei["Metadata_Well"],
            "Image_Metadata_Site": nuclei["Metadata_Site"].astype(str),
            "Metadata_ObjectNumber": nuclei["Metadata_ObjectNumber"],
            "Cells_AreaShape_Area": 80.0,
            "Nuclei_Location_Center_X": nuclei["Nuclei_Location_Center_X"],
            "Nuclei_Location_Center_Y": nuclei["Nuclei_Location_Center_Y"],
        }
    )
    table.to_parquet(tmp_path / "SQ00014812.parquet", index=False, row_group_size=5)
    read = read_nucleus_centres(tmp_path, nuclei="*.parquet", chunk_rows=4)
    pd.testing.assert_frame_equal(_plain(read), nuclei)
    table.drop(columns="Image_Metadata_Site").to_parquet(tmp_path / "SQ00014812.parquet", index=False)
    with pytest.raises(ValueError, match=r"SQ00014812.parquet: missing column\(s\) \[\"Metadata_Site \(as one of"):
        read_nucleus_centres(tmp_path, nuclei="SQ00014812.parquet")


def test_broken_tables_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"backend/\*/\*\.sqlite: no nucleus table"):
        read_nucleus_centres(tmp_path, nuclei="backend/*/*.sqlite")
    path = write_nuclei_sqlite(_nuclei(), tmp_path / "plate.sqlite")
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM Image WHERE ImageNumber = 2 AND TableNumber = 1")
    with pytest.raises(ValueError, match=r"plate.sqlite: 3 nucleus row\(s\) without plate, well or site"):
        read_nucleus_centres(tmp_path, nuclei="plate.sqlite")
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE Image")
    with pytest.raises(ValueError, match=r"plate.sqlite: missing table\(s\) \['Image'\]; its tables are \['Nuclei'\]"):
        read_nucleus_centres(tmp_path, nuclei="plate.sqlite")
    twice = pd.concat([_nuclei(), _nuclei().head(1)], ignore_index=True)
    twice.to_csv(tmp_path / "nuclei.csv", index=False)
    with pytest.raises(ValueError, match=r"nuclei.csv: 1 nucleus row\(s\) listed twice"):
        read_nucleus_centres(tmp_path)


def test_cells_come_from_the_sqlite_as_from_the_csv(cellpainting_dir: Path) -> None:
    from_csv = open_cells("cellpainting", cellpainting_dir, crop_size=8)
    nuclei = pd.read_csv(cellpainting_dir / "nuclei.csv")
    write_nuclei_sqlite(nuclei, cellpainting_dir / "backend" / "P1.sqlite")
    (cellpainting_dir / "nuclei.csv").unlink()
    from_sqlite = open_cells("cellpainting", cellpainting_dir, crop_size=8, nuclei="backend/*.sqlite")
    pd.testing.assert_frame_equal(from_sqlite.metadata, from_csv.metadata)
    for i in range(len(from_csv)):
        np.testing.assert_array_equal(from_sqlite[i].numpy(), from_csv[i].numpy())
