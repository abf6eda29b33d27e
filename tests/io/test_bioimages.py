"""The ``images`` format on its real layouts: OME-TIFF fields named by their OME metadata, an OME-Zarr plate, a CSV
index of per-channel files named by the instrument; and the errors that name the file before any embedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from celldino_utils.io import open_cells, open_fields
from celldino_utils.synthetic.images import PLATE_CHANNELS, PLATEMAP_CSV, write_ome_tiff_plate

from ..images_layouts import CSV_CHANNELS, ZARR_CHANNELS, write_mask, write_phenix_index, write_zarr_plate
from ..layouts import write_png


@pytest.fixture
def ome_plate(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    plate = tmp_path / "plate"
    return plate, write_ome_tiff_plate(plate, n_wells=2, fields_per_well=2, cells_per_field=3)


def test_ome_tiff_fields_take_their_channel_names_and_sizes_from_their_metadata(ome_plate) -> None:
    plate, truth = ome_plate
    fields = open_fields("images", plate, metadata_csv=PLATEMAP_CSV)
    assert fields.layout.channels == PLATE_CHANNELS
    assert list(fields.metadata["Metadata_Id"]) == list(truth["Metadata_Id"])
    assert list(fields.metadata["Metadata_treatment"]) == list(truth["Metadata_treatment"])
    assert {fields.field_size(i) for i in range(len(fields))} == {(96, 96), (80, 112)}
    for i, field_id in enumerate(truth["Metadata_Id"]):
        stored = tifffile.imread(plate / f"{field_id}.ome.tif")
        np.testing.assert_allclose(fields[i].numpy(), stored / 65535, rtol=0, atol=1e-7)
    cells = open_cells("images", plate, crop_size=16)
    assert len(cells) == truth["n_cells"].sum() and tuple(cells[0].shape) == (3, 16, 16)


def test_ome_zarr_plate_fields_come_with_plate_well_and_site(tmp_path: Path) -> None:
    pixels = write_zarr_plate(tmp_path)
    fields = open_fields("images", tmp_path)
    assert fields.layout.channels == ZARR_CHANNELS
    assert list(fields.metadata["Metadata_Well"]) == ["A1", "A1", "A2", "A2"]
    assert list(fields.metadata["Metadata_Site"]) == [0, 1, 0, 1]
    for i, field_id in enumerate(fields.metadata["Metadata_Id"]):
        np.testing.assert_allclose(fields[i].numpy(), pixels[field_id] / 65535, rtol=0, atol=1e-7)
    assert len(open_cells("images", tmp_path, crop_size=16)) == 8  # two cells per mask


def test_a_csv_index_stacks_instrument_named_files_in_the_order_of_its_columns(tmp_path: Path) -> None:
    pixels = write_phenix_index(tmp_path)
    fields = open_fields("images", tmp_path, index_csv="fields.csv")
    assert fields.layout.channels == CSV_CHANNELS
    assert list(fields.metadata["Metadata_Id"]) == ["P1_A01_1", "P1_A01_2", "P1_A02_1", "P1_A02_2"]
    for i, field_id in enumerate(fields.metadata["Metadata_Id"]):
        np.testing.assert_allclose(fields[i].numpy(), pixels[field_id] / 65535, rtol=0, atol=1e-7)
    by_name = open_fields("images", tmp_path, index_csv="fields.csv", channels=["Actin", "DAPI", "GFP"])
    np.testing.assert_array_equal(by_name[0].numpy(), fields[0].numpy()[[2, 0, 1]])


def test_files_without_channel_names_take_them_from_the_user(tmp_path: Path) -> None:
    for k in range(2):
        planes = np.full((2, 20, 24), 1000 * (k + 1), np.uint16)
        tifffile.imwrite(tmp_path / f"field{k}.tif", planes, metadata={"axes": "CYX"})
    with pytest.raises(ValueError, match=r"field0\.tif: its metadata does not name its 2 channels"):
        open_fields("images", tmp_path)
    fields = open_fields("images", tmp_path, channel_names="DNA, Tubulin")
    assert fields.layout.channels == ("DNA", "Tubulin") and len(fields) == 2
    np.testing.assert_allclose(fields[1].numpy(), 2000 / 65535, rtol=1e-6)
    rgb = tmp_path / "rgb"
    write_png(rgb / "photo.png", np.stack([np.full((20, 24), v, np.uint8) for v in (10, 20, 30)], axis=-1))
    colours = open_fields("images", rgb, channel_names=["red", "green", "blue"])
    np.testing.assert_allclose(colours[0].numpy()[:, 0, 0], np.array([10, 20, 30]) / 255, rtol=1e-6)
    renamed = open_fields("images", tmp_path, channel_names=["Hoechst", "Tubulin"], channel_map={"DNA": "Hoechst"})
    assert renamed.layout.channels == ("DNA", "Tubulin")
    with pytest.raises(ValueError, match=r"channel_map: .* has no channel \['Mito'\]"):
        open_fields("images", tmp_path, channel_names=["DNA", "Tubulin"], channel_map={"mito": "Mito"})


def test_a_field_whose_channels_differ_from_the_others_is_named(ome_plate) -> None:
    plate, _ = ome_plate
    odd = plate / "r09c09f09.ome.tif"
    metadata = {"axes": "CYX", "Channel": {"Name": ["Hoechst 33342", "GFP", "MitoTracker"]}}
    tifffile.imwrite(odd, np.zeros((3, 32, 32), np.uint16), metadata=metadata)
    with pytest.raises(ValueError, match=r"r09c09f09\.ome\.tif: channels .*'GFP'.* differ from those of .*r01c01f01"):
        open_fields("images", plate)


def test_a_file_no_reader_takes_is_named(ome_plate) -> None:
    plate, _ = ome_plate
    (plate / "r00c00f00.tif").write_bytes(b"not an image at all")
    with pytest.raises(ValueError, match=r"unreadable image file .*r00c00f00\.tif: no installed bioio reader"):
        open_fields("images", plate)


def test_a_z_stack_is_refused_naming_the_file(tmp_path: Path) -> None:
    metadata = {"axes": "ZCYX", "Channel": {"Name": ["DNA", "Actin"]}}
    tifffile.imwrite(tmp_path / "stack.ome.tif", np.zeros((3, 2, 16, 16), np.uint16), metadata=metadata)
    with pytest.raises(ValueError, match=r"stack\.ome\.tif: holds \{'Z': 3\} planes"):
        open_fields("images", tmp_path)


def test_a_mask_of_another_size_than_its_field_is_named_before_any_cell_is_cut(tmp_path: Path) -> None:
    write_phenix_index(tmp_path)
    write_mask(tmp_path, "P1_A02_1", (30, 30))
    message = r"P1_A02_1_cells\.png: mask of shape \(30, 30\), but its field is \(36, 44\) pixels"
    with pytest.raises(ValueError, match=message):
        open_cells("images", tmp_path, crop_size=16, index_csv="fields.csv")


def test_a_csv_index_names_a_missing_file_and_a_blank_one(tmp_path: Path) -> None:
    write_phenix_index(tmp_path)
    index = pd.read_csv(tmp_path / "fields.csv")
    index.loc[1, "FileName_GFP"] = "gone.tiff"
    index.to_csv(tmp_path / "missing.csv", index=False)
    with pytest.raises(FileNotFoundError, match=r"Images/gone\.tiff"):
        open_fields("images", tmp_path, index_csv="missing.csv")
    index.loc[1, "FileName_GFP"] = None
    index.to_csv(tmp_path / "blank.csv", index=False)
    with pytest.raises(ValueError, match=r"blank\.csv: 1 row\(s\) without a file in FileName_GFP"):
        open_fields("images", tmp_path, index_csv="blank.csv")
