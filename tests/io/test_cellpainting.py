from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from celldino_utils.io import open_cells, open_fields
from celldino_utils.io.cellpainting import channel_tags

from ..layouts import (
    CP_CHANNELS,
    PHENIX_CHANNELS,
    PHENIX_SITES,
    TIFF_COMPRESSIONS,
    corrupt_pixels,
    phenix_name,
    write_phenix,
)


def test_sites_in_channel_order_with_metadata(cellpainting_dir: Path) -> None:
    fields = open_fields("cellpainting", cellpainting_dir)
    assert list(fields.metadata["Metadata_Id"]) == ["P1/A01/s1", "P1/B02/s1"]
    assert list(fields.metadata["Metadata_moa"]) == ["moa_A01", "moa_B02"]
    image = fields[1].numpy()
    for c, channel in enumerate(CP_CHANNELS):
        expected = tifffile.imread(cellpainting_dir / "images" / "P1" / f"B02_s1_{channel}.tiff") / 65535.0
        np.testing.assert_allclose(image[c], expected, atol=1e-6)


def test_cells_around_nucleus_centres(cellpainting_dir: Path) -> None:
    cells = open_cells("cellpainting", cellpainting_dir, crop_size=8)
    assert len(cells) == 4
    assert list(cells.metadata["Metadata_Well"]) == ["A01", "A01", "B02", "B02"]
    site = open_fields("cellpainting", cellpainting_dir)[1].numpy()
    np.testing.assert_allclose(cells[2].numpy(), site[:, 8:16, 8:16], atol=1e-6)
    corner = cells[3].numpy()  # centre (1, 1): the window would start 3 pixels outside, so it is shifted inside
    np.testing.assert_allclose(corner, site[:, :8, :8], atol=1e-6)


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


def _phenix_site(folder: Path, site: int) -> np.ndarray:
    """Site ``site`` of ``phenix_dir`` from its TIFFs: ``(5, 20, 24)``, DNA, ER, RNA, AGP, Mito."""
    row, column, field = PHENIX_SITES[site]
    images = next((folder / "images").glob("*/Images"))
    planes = [tifffile.imread(images / phenix_name(row, column, field, k)) for k in PHENIX_CHANNELS.values()]
    return np.stack(planes) / 65535.0


def test_phenix_files_are_mapped_by_their_columns(phenix_dir: Path) -> None:
    fields = open_fields("cellpainting", phenix_dir)
    assert list(fields.metadata["Metadata_Id"]) == ["SQ00015096/C03/s1", "SQ00015096/C03/s2", "SQ00015096/E12/s1"]
    assert list(fields.metadata["Metadata_FieldID"]) == [1, 2, 1]
    for site in range(len(PHENIX_SITES)):
        np.testing.assert_allclose(fields[site].numpy(), _phenix_site(phenix_dir, site), atol=1e-6)


def test_phenix_cells_read_cell_by_cell(phenix_dir: Path) -> None:
    cells = open_cells("cellpainting", phenix_dir, crop_size=8)
    assert len(cells) == 6
    assert list(cells.metadata["Metadata_cell_id"]) == [1, 2] * 3
    for i in range(len(cells)):
        site = _phenix_site(phenix_dir, i // 2)
        x, y = (6, 5) if i % 2 == 0 else (17, 14)
        np.testing.assert_allclose(cells[i].numpy(), site[:, y - 4 : y + 4, x - 4 : x + 4], atol=1e-6)


def _rename_stains(folder: Path, names: dict[str, str]) -> None:
    table = pd.read_csv(folder / "load_data.csv")
    renamed = {
        f"{kind}_Orig{ours}": f"{kind}_Orig{theirs}"
        for ours, theirs in names.items()
        for kind in ("FileName", "PathName")
    }
    table.rename(columns=renamed).to_csv(folder / "load_data.csv", index=False)


def test_channel_map_reads_stains_named_otherwise(phenix_dir: Path) -> None:
    channel_map = {"DNA": "Hoechst", "Mito": "MitoTracker"}
    _rename_stains(phenix_dir, channel_map)
    with pytest.raises(ValueError, match=r"load_data.csv: missing column.*FileName_OrigDNA \(channel DNA\)"):
        open_fields("cellpainting", phenix_dir)
    fields = open_fields("cellpainting", phenix_dir, channel_map=channel_map)
    np.testing.assert_allclose(fields[2].numpy(), _phenix_site(phenix_dir, 2), atol=1e-6)
    cells = open_cells("cellpainting", phenix_dir, crop_size=8, channel_map=channel_map)
    np.testing.assert_allclose(cells[5].numpy(), _phenix_site(phenix_dir, 2)[:, 10:18, 13:21], atol=1e-6)


def test_channel_map_must_name_our_channels_once() -> None:
    assert channel_tags({"DNA": "Hoechst"}) == {
        "DNA": "Hoechst",
        "ER": "ER",
        "RNA": "RNA",
        "AGP": "AGP",
        "Mito": "Mito",
    }
    with pytest.raises(ValueError, match=r"unknown channel\(s\) \['Hoechst'\]"):
        channel_tags({"Hoechst": "DNA"})
    with pytest.raises(ValueError, match="several channels read from FileName_OrigER"):
        channel_tags({"DNA": "ER"})


def test_file_names_without_path_column_are_relative_to_the_data_folder(phenix_dir: Path) -> None:
    table = pd.read_csv(phenix_dir / "load_data.csv")
    for channel in CP_CHANNELS:
        folder = Path(table.pop(f"PathName_Orig{channel}")[0]).relative_to(phenix_dir)
        table[f"FileName_Orig{channel}"] = [f"{folder.as_posix()}/{name}" for name in table[f"FileName_Orig{channel}"]]
    table.to_csv(phenix_dir / "load_data.csv", index=False)
    np.testing.assert_allclose(
        open_fields("cellpainting", phenix_dir)[1].numpy(), _phenix_site(phenix_dir, 1), atol=1e-6
    )


def test_blank_file_name_is_named(phenix_dir: Path) -> None:
    table = pd.read_csv(phenix_dir / "load_data.csv")
    table.loc[1, "FileName_OrigRNA"] = np.nan
    table.to_csv(phenix_dir / "load_data.csv", index=False)
    with pytest.raises(ValueError, match=r"load_data.csv: 1 row\(s\) without a file in FileName_OrigRNA.*C03', 2"):
        open_fields("cellpainting", phenix_dir)


@pytest.mark.parametrize("compression", TIFF_COMPRESSIONS)
def test_compressed_phenix_sites_read_like_their_uncompressed_twin(tmp_path: Path, compression: str) -> None:
    plain = open_fields("cellpainting", write_phenix(tmp_path / "plain"))
    packed = open_fields("cellpainting", write_phenix(tmp_path / compression, compression=compression))
    pd.testing.assert_frame_equal(packed.metadata, plain.metadata)
    for site in range(len(PHENIX_SITES)):
        np.testing.assert_array_equal(packed[site].numpy(), plain[site].numpy())


def test_an_undecodable_first_image_is_named_when_the_data_set_is_opened(tmp_path: Path) -> None:
    folder = write_phenix(tmp_path, compression="lzw")
    table = pd.read_csv(folder / "load_data.csv")
    rna = Path(table.loc[0, "PathName_OrigRNA"]) / table.loc[0, "FileName_OrigRNA"]
    corrupt_pixels(rna)
    opened = f"cellpainting data set {folder}: the first image of channel RNA cannot be read: "
    with pytest.raises(ValueError, match=re.escape(f"{opened}unreadable image file {rna}: ")):
        open_fields("cellpainting", folder)
    with pytest.raises(ValueError, match=re.escape(opened)):
        open_cells("cellpainting", folder, crop_size=8)
