"""Field sizes read from image headers, the training scale of a data set, single cells cut at a model's scale."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch
import torch.nn.functional as F

from celldino_utils.io import datasets as datasets_module
from celldino_utils.io import open_cells, open_fields, open_images
from celldino_utils.io.classes import HPA_KAGGLE_2018_CLASSES
from celldino_utils.io.crops import crop_around
from celldino_utils.io.datasets import field_sizes, sample_positions, typical_field_side

from ..layouts import HPA_TAGS, write_png


def test_field_sizes_come_from_the_headers_without_reading_pixels(kaggle_dir: Path, monkeypatch) -> None:
    fields = open_fields("hpa-kaggle", kaggle_dir)

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixels were read")

    monkeypatch.setattr(datasets_module, "read_image", no_reading)
    monkeypatch.setattr(datasets_module, "stack_channels", no_reading)
    assert field_sizes(fields, [0, 2]) == [(16, 20), (16, 20)]
    assert typical_field_side(fields) == 16


def test_multichannel_files_give_their_spatial_size_whatever_the_channel_axis(tmp_path: Path) -> None:
    rows = []
    for name, shape in (("first.tiff", (4, 10, 14)), ("last.tiff", (12, 18, 4)), ("rgba.png", (6, 22, 4))):
        array = np.zeros(shape, dtype=np.uint8)
        if name.endswith(".png"):
            write_png(tmp_path / name, array)
        else:
            tifffile.imwrite(tmp_path / name, array, photometric="minisblack" if shape[0] == 4 else "rgb")
        rows.append({"file": name, "cell_type": "U2OS", **{c: c == "Cytosol" for c in HPA_KAGGLE_2018_CLASSES}})
    pd.DataFrame(rows).to_csv(tmp_path / "fov.csv", index=False)
    fields = open_fields("hpa-fov", tmp_path)
    assert field_sizes(fields, [0, 1, 2]) == [(10, 14), (12, 18), (6, 22)]
    assert [tuple(fields[i].shape[-2:]) for i in range(3)] == [(10, 14), (12, 18), (6, 22)]


def test_training_scale_is_the_median_shorter_side_of_a_spread_sample() -> None:
    images = [torch.zeros(2, side, side + 3) for side in (40, 64, 64, 128, 32)]
    assert typical_field_side(images) == 64
    assert sample_positions(5, 64) == [0, 1, 2, 3, 4]
    assert sample_positions(1000, 3) == [0, 500, 999]
    with pytest.raises(ValueError, match="no fields"):
        typical_field_side([])


def _field_with_one_big_cell(folder: Path, image_id: str, *, side: int, centre: int, half: int) -> None:
    """A ``side`` px Kaggle field of smooth stripes per channel, and a mask whose one cell is the square of
    half-side ``half`` around (``centre``, ``centre``) (centroid exactly there)."""
    y, x = np.mgrid[0:side, 0:side]
    for c, tag in enumerate(HPA_TAGS):
        plane = 127 + 100 * np.sin((x + 2 * y) / (9.0 + 4 * c)) * np.cos(y / 23.0)
        write_png(folder / "train" / f"{image_id}_{tag}.png", plane.round().astype(np.uint8))
    labels = np.zeros((side, side), dtype=np.uint16)
    labels[centre - half : centre + half + 1, centre - half : centre + half + 1] = 1
    write_png(folder / "masks" / f"{image_id}_cells.png", labels)


def test_cells_at_the_training_scale_match_the_cells_of_the_downscaled_field(tmp_path: Path) -> None:
    # field_px 64: the 256 px field is 4x the training scale, the 384 px field 6x (one folder, mixed sizes).
    _field_with_one_big_cell(tmp_path, "f256", side=256, centre=128, half=38)
    _field_with_one_big_cell(tmp_path, "f384", side=384, centre=192, half=50)
    pd.DataFrame({"Id": ["f256", "f384"], "Target": ["0", "1"]}).to_csv(tmp_path / "train.csv", index=False)
    cells = open_cells("hpa-kaggle", tmp_path, crop_size=16, field_px=64)
    fields = open_fields("hpa-kaggle", tmp_path)
    for i, factor in enumerate((4, 6)):
        crop = cells[i].numpy()
        assert crop.shape == (4, 16, 16)
        small = F.interpolate(fields[i][None], size=(64, 64), mode="bilinear", antialias=True)[0].numpy()
        # the 16 * factor native window starts at a multiple of factor: it is exactly the small field's window
        expected = crop_around(small, center_x=32, center_y=32, size=16)
        np.testing.assert_allclose(crop[:, 1:-1, 1:-1], expected[:, 1:-1, 1:-1], atol=1e-5)
        np.testing.assert_allclose(crop, expected, atol=0.05)  # the border rows only lack their outer neighbours
        assert np.abs(crop - crop.mean()).max() > 0.2, f"the crop of field {i} (x{factor}) is flat"
    native = open_cells("hpa-kaggle", tmp_path, crop_size=16)[0].numpy()  # no training scale: native pixels
    np.testing.assert_array_equal(native, crop_around(fields[0].numpy(), center_x=128, center_y=128, size=16))


def test_open_images_reads_fields_or_cells_by_level(kaggle_dir: Path) -> None:
    fields = open_images("hpa-kaggle", kaggle_dir, level="fov", crop_size=8)  # a crop size means nothing to fields
    assert len(fields) == 3 and fields[0].shape == (4, 16, 20)
    cells = open_images("hpa-kaggle", kaggle_dir, level="cell", crop_size=8)
    expected = open_cells("hpa-kaggle", kaggle_dir, crop_size=8)
    pd.testing.assert_frame_equal(cells.metadata, expected.metadata)
    assert torch.equal(cells[1], expected[1])
    with pytest.raises(ValueError, match="level: unknown level 'site'"):
        open_images("hpa-kaggle", kaggle_dir, level="site")
    with pytest.raises(ValueError, match="crop_size"):
        open_images("hpa-kaggle", kaggle_dir, level="cell")


def test_an_image_that_is_not_one_is_named_with_its_channel_when_the_data_set_is_opened(kaggle_dir: Path) -> None:
    green = kaggle_dir / "train" / "img0_green.png"
    green.write_bytes(b"not a PNG")
    message = f"hpa-kaggle data set {kaggle_dir}: the first image of channel protein cannot be read: "
    with pytest.raises(ValueError, match=re.escape(f"{message}unreadable image file {green}")):
        open_fields("hpa-kaggle", kaggle_dir)
    green.unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(f"{message}image file not found: {green}")):
        open_images("hpa-kaggle", kaggle_dir, level="fov")


def test_decoded_fields_are_kept_up_to_the_cache_size_and_given_as_copies(kaggle_dir: Path, monkeypatch) -> None:
    decoded = []
    stack = datasets_module.stack_channels

    def counting(paths: list[Path], **options: object) -> np.ndarray:
        decoded.append(paths[0].name)
        return stack(paths, **options)

    monkeypatch.setattr(datasets_module, "stack_channels", counting)
    fields = open_fields("hpa-kaggle", kaggle_dir, channels=["protein", "nucleus", "microtubules", "er"])
    decoded.clear()  # opening decodes the first field's files to check them
    first = fields[0]
    first.zero_()  # a caller that changes its item in place
    again = fields[0]
    assert len(decoded) == 1 and again.abs().sum() > 0, "read once, and the cache kept the pixels as decoded"
    index, layout = datasets_module.read_index("hpa-kaggle", kaggle_dir), fields._read_layout
    uncached = datasets_module.FieldDataset(index, layout=layout, channels=fields.layout.channels, cache_mib=0)
    assert torch.equal(again, uncached[0]), "the cache holds the channels in the items' order"
    one_field = again.numel() * 4 / 2**20  # MiB of one float32 field
    small = datasets_module.FieldDataset(index, layout=layout, cache_mib=2.5 * one_field)
    decoded.clear()
    for i in (0, 1, 0, 1, 2, 0):  # room for two fields: 2 drops 0, read less recently than 1
        small[i]
    assert decoded == ["img0_red.png", "img1_red.png", "img2_red.png", "img0_red.png"]
    too_small = datasets_module.FieldDataset(index, layout=layout, cache_mib=0.5 * one_field)
    decoded.clear()
    assert torch.equal(too_small[1], too_small[1]) and len(decoded) == 2, "a field larger than the cache: not kept"
    assert len(pickle.loads(pickle.dumps(fields))._decoded) == 0, "a worker gets the dataset without the cache"
    with pytest.raises(ValueError, match="cache_mib"):
        datasets_module.FieldDataset(index, layout=layout, cache_mib=-1)
