"""The photographs format: a folder of RGB images of any name, PNG, JPEG or TIFF, in sub-folders too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from celldino_utils.io import open_fields, read_index


def _photo(path: Path, shape: tuple[int, ...], value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.full(shape, value, dtype=np.uint8)
    array[0, 0] = 255
    if path.suffix == ".tif":
        tifffile.imwrite(path, array)
    else:
        Image.fromarray(array).save(path)


def test_mixed_files_and_sizes_are_read_as_rgb_in_path_order(tmp_path: Path) -> None:
    _photo(tmp_path / "b.JPG", (40, 60, 3), 10)
    _photo(tmp_path / "a.png", (32, 32, 3), 20)
    _photo(tmp_path / "street" / "c.tif", (50, 30, 3), 30)
    (tmp_path / "notes.txt").write_text("not an image")
    fields = open_fields("photographs", tmp_path)
    assert list(fields.metadata["Metadata_file"]) == ["a.png", "b.JPG", "street/c.tif"]
    assert [tuple(fields[i].shape) for i in range(3)] == [(3, 32, 32), (3, 40, 60), (3, 50, 30)]
    assert fields.layout.channels == ("red", "green", "blue") and fields.layout.protein_index is None
    assert float(fields[2][:, 1, 1].mean()) == pytest.approx(30 / 255)


def test_a_grayscale_file_is_named(tmp_path: Path) -> None:
    _photo(tmp_path / "gray.png", (32, 32), 10)
    with pytest.raises(ValueError, match="gray.png.*3 channels"):
        open_fields("photographs", tmp_path)[0]


def test_a_folder_without_photographs_is_named(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("")
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}: no photographs"):
        read_index("photographs", tmp_path)


def test_files_that_are_not_rgb_are_named_before_any_image_is_read(tmp_path: Path) -> None:
    _photo(tmp_path / "ok.png", (32, 32, 3), 10)
    _photo(tmp_path / "logo.png", (32, 32, 4), 10)
    _photo(tmp_path / "scan.jpg", (32, 32), 10)
    with pytest.raises(
        ValueError, match=r"2 file\(s\) are not RGB, e\.g\. logo\.png \(32, 32, 4\), scan\.jpg \(32, 32\)"
    ):
        read_index("photographs", tmp_path)
