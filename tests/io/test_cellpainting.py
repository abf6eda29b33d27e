from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from celldino_utils.io import CELLPAINTING, load_field, open_cells, open_fields

from ..layouts import CP_CHANNELS


def test_sites_in_channel_order_with_metadata(cellpainting_dir: Path) -> None:
    fields = open_fields("cellpainting", cellpainting_dir)
    assert list(fields.metadata["Metadata_Id"]) == ["P1/A01/s1", "P1/B02/s1"]
    assert list(fields.metadata["Metadata_moa"]) == ["moa_A01", "moa_B02"]
    image = fields[1].numpy()
    for c, channel in enumerate(CP_CHANNELS):
        expected = tifffile.imread(cellpainting_dir / "images" / "P1" / f"B02_s1_{channel}.tiff") / 65535.0
        np.testing.assert_allclose(image[c], expected, atol=1e-6)


def test_swapped_channel_files_are_refused(cellpainting_dir: Path) -> None:
    folder = cellpainting_dir / "images" / "P1"
    paths = tuple(folder / f"A01_s1_{c}.tiff" for c in ("ER", "DNA", "RNA", "AGP", "Mito"))
    with pytest.raises(ValueError, match="do not match the cellpainting order"):
        load_field(paths, layout=CELLPAINTING)


def test_cells_around_nucleus_centres(cellpainting_dir: Path) -> None:
    cells = open_cells("cellpainting", cellpainting_dir, crop_size=8)
    assert len(cells) == 4
    assert list(cells.metadata["Metadata_Well"]) == ["A01", "A01", "B02", "B02"]
    site = open_fields("cellpainting", cellpainting_dir)[1].numpy()
    np.testing.assert_allclose(cells[2].numpy(), site[:, 8:16, 8:16], atol=1e-6)
    corner = cells[3].numpy()  # centre (1, 1): the window starts 3 pixels outside the image, zero-padded
    assert corner[:, :3].sum() == 0 and corner[:, :, :3].sum() == 0
    np.testing.assert_allclose(corner[:, 3:, 3:], site[:, :5, :5], atol=1e-6)


def test_missing_channel_column_is_named(cellpainting_dir: Path) -> None:
    table = pd.read_csv(cellpainting_dir / "load_data.csv").drop(columns="FileName_OrigMito")
    table.to_csv(cellpainting_dir / "load_data.csv", index=False)
    with pytest.raises(ValueError, match=r"load_data.csv.*FileName_OrigMito"):
        open_fields("cellpainting", cellpainting_dir)


def test_nuclei_of_unknown_site_are_refused(cellpainting_dir: Path) -> None:
    nuclei = pd.read_csv(cellpainting_dir / "nuclei.csv")
    nuclei.loc[0, "Metadata_Well"] = "Z99"
    nuclei.to_csv(cellpainting_dir / "nuclei.csv", index=False)
    with pytest.raises(ValueError, match=r"nuclei.csv.*belong to no site"):
        open_cells("cellpainting", cellpainting_dir, crop_size=8)


def test_platemap_join(cellpainting_dir: Path) -> None:
    pd.DataFrame({"Metadata_Plate": ["P1", "P1"], "Metadata_Well": ["A01", "B02"], "Metadata_dose": [1.0, 2.0]}).to_csv(
        cellpainting_dir / "platemap.csv", index=False
    )
    fields = open_fields("cellpainting", cellpainting_dir, platemap_csv="platemap.csv")
    assert list(fields.metadata["Metadata_dose"]) == [1.0, 2.0]
    pd.DataFrame({"Metadata_Plate": ["P1"], "Metadata_Well": ["A01"]}).to_csv(
        cellpainting_dir / "platemap.csv", index=False
    )
    with pytest.raises(ValueError, match=r"platemap.csv.*no platemap row"):
        open_fields("cellpainting", cellpainting_dir, platemap_csv="platemap.csv")
