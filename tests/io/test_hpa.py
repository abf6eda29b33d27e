from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from celldino_utils.io import HPA_KAGGLE, load_field, open_cells, open_fields
from celldino_utils.io.hpa import label_table, read_hpa_kaggle

from ..layouts import HPA_TAGS, write_png


def test_kaggle_2018_labels_metadata_and_pixels(kaggle_dir: Path) -> None:
    fields = open_fields("hpa-kaggle", kaggle_dir)
    meta = fields.metadata
    assert list(meta["Metadata_Id"]) == ["img0", "img1", "img2"]
    assert list(meta["Metadata_Target"]) == ["0", "0 25", "14"]
    assert list(meta["Metadata_cell_line"]) == ["U2OS", "U2OS", "A431"]
    assert set(meta["Metadata_class_list"]) == {"hpa-kaggle-2018"}
    image = fields[1]
    assert image.dtype.is_floating_point and tuple(image.shape) == (4, 16, 20)
    for c, tag in enumerate(HPA_TAGS):
        expected = np.asarray(Image.open(kaggle_dir / "train" / f"img1_{tag}.png")) / 255.0
        np.testing.assert_allclose(image[c].numpy(), expected, atol=1e-6)


def test_kaggle_2021_layout(kaggle_dir: Path) -> None:
    pd.DataFrame({"ID": ["img0", "img1", "img2"], "Label": ["0|16", "18", "10"]}).to_csv(
        kaggle_dir / "train.csv", index=False
    )
    meta = read_hpa_kaggle(kaggle_dir)
    assert list(meta["Metadata_Target"]) == ["0 16", "18", "10"]
    assert set(meta["Metadata_class_list"]) == {"hpa-kaggle-2021"}
    assert list(label_table(meta)["class_name"]) == ["Nucleoplasm", "Cytosol", "Negative", "Microtubules"]


def test_hpa_fov_layout(tmp_path: Path) -> None:
    rgba = np.random.default_rng(2).integers(0, 256, (12, 12, 4), dtype=np.uint8)
    write_png(tmp_path / "images" / "f1.png", rgba)
    from celldino_utils.io.classes import HPA_KAGGLE_2018_CLASSES

    row = {
        "file": "images/f1.png",
        "cell_type": "U2OS",
        **{c: c in ("Cytosol", "Nucleoli") for c in HPA_KAGGLE_2018_CLASSES},
    }
    pd.DataFrame([row]).to_csv(tmp_path / "fov.csv", index=False)
    fields = open_fields("hpa-fov", tmp_path)
    assert list(fields.metadata["Metadata_Target"]) == ["2 25"]
    assert fields.metadata.loc[0, "Metadata_cell_line"] == "U2OS"
    np.testing.assert_allclose(fields[0].numpy(), np.moveaxis(rgba, -1, 0) / 255.0, atol=1e-6)


def test_cells_from_masks(kaggle_dir: Path) -> None:
    cells = open_cells("hpa-kaggle", kaggle_dir, crop_size=8)
    assert len(cells) == 6
    assert list(cells.metadata["Metadata_cell_id"]) == [1, 2] * 3
    crop = cells[0].numpy()
    assert crop.shape == (4, 8, 8)
    full = open_fields("hpa-kaggle", kaggle_dir)[0].numpy()
    # the first cell covers rows 2..6, columns 3..8: its centre (4, 5.5) -> window rows 0..7, columns 2..9
    np.testing.assert_allclose(crop[:, 2:7, 1:7], full[:, 2:7, 3:9], atol=1e-6)
    assert crop[:, 0:2].sum() == 0  # background of the window is masked out


def test_missing_channel_file_is_named(kaggle_dir: Path) -> None:
    missing = kaggle_dir / "train" / "img2_yellow.png"
    missing.unlink()
    fields = open_fields("hpa-kaggle", kaggle_dir)
    with pytest.raises(FileNotFoundError, match="img2_yellow.png"):
        fields[2]


def test_unreadable_image_is_named(kaggle_dir: Path) -> None:
    (kaggle_dir / "train" / "img0_green.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="img0_green.png"):
        open_fields("hpa-kaggle", kaggle_dir)[0]


def test_mismatched_channel_sizes_are_named(kaggle_dir: Path) -> None:
    write_png(kaggle_dir / "train" / "img0_blue.png", np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="img0_blue.png"):
        open_fields("hpa-kaggle", kaggle_dir)[0]


def test_unknown_class_index_is_named(kaggle_dir: Path) -> None:
    pd.DataFrame({"Id": ["img0", "img1", "img2"], "Target": ["0", "28", "1"]}).to_csv(
        kaggle_dir / "train.csv", index=False
    )
    with pytest.raises(ValueError, match=r"train.csv.*img1.*unknown class index \[28\]"):
        read_hpa_kaggle(kaggle_dir)


def test_missing_label_column_is_named(kaggle_dir: Path) -> None:
    pd.DataFrame({"Id": ["img0"], "Targets": ["0"]}).to_csv(kaggle_dir / "train.csv", index=False)
    with pytest.raises(ValueError, match=r"train.csv.*Id,Target"):
        read_hpa_kaggle(kaggle_dir)


def test_metadata_must_cover_every_image(kaggle_dir: Path) -> None:
    pd.DataFrame({"Id": ["img0", "img1"], "cell_line": ["U2OS", "U2OS"]}).to_csv(
        kaggle_dir / "metadata.csv", index=False
    )
    with pytest.raises(ValueError, match=r"metadata.csv.*img2"):
        read_hpa_kaggle(kaggle_dir)


def test_fov_missing_class_column_is_named(tmp_path: Path) -> None:
    pd.DataFrame({"file": ["a.png"], "cell_type": ["U2OS"], "Nucleoplasm": [True]}).to_csv(
        tmp_path / "fov.csv", index=False
    )
    with pytest.raises(ValueError, match=r"fov.csv.*missing column.*Nuclear membrane"):
        open_fields("hpa-fov", tmp_path)


def test_unknown_format_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown data format 'hpa'"):
        open_fields("hpa", tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        open_fields("hpa-kaggle", tmp_path / "nowhere")


def test_crops_of_selected_cells_in_selection_order(kaggle_dir: Path) -> None:
    from celldino_utils.io.datasets import crops_of

    cells = open_cells("hpa-kaggle", kaggle_dir, crop_size=8)
    selection = cells.metadata.iloc[[3, 0]]
    crops = crops_of(cells, selection)
    assert crops.shape == (2, 4, 8, 8)
    np.testing.assert_array_equal(crops[0], cells[3].numpy())
    with pytest.raises(KeyError, match="not in the dataset"):
        crops_of(cells, selection.assign(Metadata_cell_id=9))


def test_swapped_channel_files_are_refused(kaggle_dir: Path) -> None:
    paths = tuple(kaggle_dir / "train" / f"img0_{tag}.png" for tag in ("green", "red", "blue", "yellow"))
    with pytest.raises(ValueError, match="do not match the hpa-kaggle order"):
        load_field(paths, layout=HPA_KAGGLE)
