"""Tiny hand-made data sets in the real layouts, written pixel by pixel so the expected values are known.

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``): its fixtures serve the whole suite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image

HPA_TAGS = ("red", "green", "blue", "yellow")
CP_CHANNELS = ("DNA", "ER", "RNA", "AGP", "Mito")


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def kaggle_dir(tmp_path: Path) -> Path:
    """Three 16x20 fields in the Kaggle 2018 layout, with metadata and one label mask per field."""
    rng = np.random.default_rng(0)
    for i in range(3):
        for tag in HPA_TAGS:
            write_png(tmp_path / "train" / f"img{i}_{tag}.png", rng.integers(0, 256, (16, 20), dtype=np.uint8))
        labels = np.zeros((16, 20), dtype=np.uint16)
        labels[2:7, 3:9] = 1
        labels[9:14, 10:18] = 2
        write_png(tmp_path / "masks" / f"img{i}_cells.png", labels)
    pd.DataFrame({"Id": ["img0", "img1", "img2"], "Target": ["0", "25 0", "14"]}).to_csv(
        tmp_path / "train.csv", index=False
    )
    pd.DataFrame({"Id": ["img2", "img0", "img1"], "cell_line": ["A431", "U2OS", "U2OS"], "plate": [2, 1, 1]}).to_csv(
        tmp_path / "metadata.csv", index=False
    )
    return tmp_path


@pytest.fixture
def cellpainting_dir(tmp_path: Path) -> Path:
    """Two 24x24 sites of one well each, 16-bit TIFFs named by a CellProfiler load_data.csv, two nuclei per site."""
    rng = np.random.default_rng(1)
    rows = []
    for well in ("A01", "B02"):
        row = {"Metadata_Plate": "P1", "Metadata_Well": well, "Metadata_Site": 1, "Metadata_moa": f"moa_{well}"}
        for channel in CP_CHANNELS:
            name = f"{well}_s1_{channel}.tiff"
            folder = tmp_path / "images" / "P1"
            folder.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(folder / name, rng.integers(0, 65536, (24, 24), dtype=np.uint16))
            row[f"FileName_Orig{channel}"] = name
            row[f"PathName_Orig{channel}"] = "images/P1"
        rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / "load_data.csv", index=False)
    pd.DataFrame(
        {
            "Metadata_Plate": ["P1"] * 4,
            "Metadata_Well": ["A01", "A01", "B02", "B02"],
            "Metadata_Site": [1] * 4,
            "Metadata_ObjectNumber": [1, 2, 1, 2],
            "Nuclei_Location_Center_X": [5.0, 18.0, 12.0, 1.0],
            "Nuclei_Location_Center_Y": [6.0, 20.0, 12.0, 1.0],
        }
    ).to_csv(tmp_path / "nuclei.csv", index=False)
    return tmp_path


#: Phenix channel number (``-ch<k>``) of each stain in ``phenix_dir``: not the order of our channels.
PHENIX_CHANNELS = {"DNA": 5, "ER": 4, "RNA": 3, "AGP": 2, "Mito": 1}
PHENIX_SITES = ((3, 3, 1), (3, 3, 2), (5, 12, 1))  # (row, column, field) of each site


def phenix_name(row: int, column: int, field: int, channel: int) -> str:
    """The Opera Phenix file name of one plane, e.g. ``r03c03f01p01-ch5sk1fk1fl1.tiff``."""
    return f"r{row:02d}c{column:02d}f{field:02d}p01-ch{channel}sk1fk1fl1.tiff"


#: The TIFF compressions that microscopes and CellProfiler exports write (``tifffile.imwrite(compression=...)``);
#: Deflate under both of its Compression tag codes (8, as libtiff writes it, and the older 32946).
TIFF_COMPRESSIONS = ("lzw", "adobe_deflate", "deflate", "zstd", "packbits")


def write_phenix(root: Path, *, compression: str | None = None) -> Path:
    """Three 20x24 sites of an Opera Phenix export under ``root``, as in the Cell Painting Gallery, two nuclei per site.

    Six 16-bit TIFFs per site named by the instrument (``ch6`` is brightfield, not a stain we read), compressed
    with ``compression`` (None: uncompressed); ``load_data.csv`` has the real metadata columns and absolute
    ``PathName_Orig*`` folders. The pixels do not depend on ``compression``.
    """
    rng = np.random.default_rng(2)
    images = root / "images" / "SQ00015096__2016-04-01T22_06_52-Measurement1" / "Images"
    images.mkdir(parents=True)
    rows, nuclei = [], []
    for row, column, field in PHENIX_SITES:
        well = f"{'ABCDEFGHIJKLMNOP'[row - 1]}{column:02d}"
        site = {"Metadata_Plate": "SQ00015096", "Metadata_Well": well, "Metadata_Site": field}
        for channel in range(1, 7):
            plane = rng.integers(0, 65536, (20, 24), dtype=np.uint16)
            tifffile.imwrite(images / phenix_name(row, column, field, channel), plane, compression=compression)
        stains = {**PHENIX_CHANNELS, "Brightfield": 6}
        rows.append(
            site
            | {"Metadata_Row": row, "Metadata_Col": column, "Metadata_FieldID": field, "Metadata_PlaneID": 1}
            | {f"FileName_Orig{s}": phenix_name(row, column, field, k) for s, k in stains.items()}
            | {f"PathName_Orig{s}": str(images) for s in stains}
        )
        nuclei += [
            site | {"Metadata_ObjectNumber": 1, "Nuclei_Location_Center_X": 6.0, "Nuclei_Location_Center_Y": 5.0},
            site | {"Metadata_ObjectNumber": 2, "Nuclei_Location_Center_X": 17.0, "Nuclei_Location_Center_Y": 14.0},
        ]
    pd.DataFrame(rows).to_csv(root / "load_data.csv", index=False)
    pd.DataFrame(nuclei).to_csv(root / "nuclei.csv", index=False)
    return root


@pytest.fixture
def phenix_dir(tmp_path: Path) -> Path:
    """:func:`write_phenix` uncompressed in ``tmp_path``."""
    return write_phenix(tmp_path)


def corrupt_pixels(path: Path) -> None:
    """Overwrite the pixels of a single-strip TIFF with zeros, its header intact: undecodable when compressed."""
    with tifffile.TiffFile(path) as tiff:
        (offset,), (count,) = tiff.pages[0].dataoffsets, tiff.pages[0].databytecounts
    with open(path, "r+b") as file:
        file.seek(offset)
        file.write(bytes(count))
