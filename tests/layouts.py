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
