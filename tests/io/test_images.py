"""Compressed TIFFs as microscopes and CellProfiler exports write them, and the files that cannot be decoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from celldino_utils.io.images import read_image

from ..layouts import TIFF_COMPRESSIONS, corrupt_pixels

#: tifffile's name of the TIFF Compression tag each ``compression=`` argument writes.
TAG_NAMES = {
    "lzw": "LZW",
    "adobe_deflate": "ADOBE_DEFLATE",
    "deflate": "DEFLATE",
    "zstd": "ZSTD",
    "packbits": "PACKBITS",
}


@pytest.mark.parametrize("compression", TIFF_COMPRESSIONS)
def test_compressed_16_bit_tiffs_read_to_the_same_pixels(tmp_path: Path, compression: str) -> None:
    plane = np.random.default_rng(0).integers(0, 65536, (20, 24), dtype=np.uint16)
    path = tmp_path / "r01c01f01p01-ch1sk1fk1fl1.tiff"
    tifffile.imwrite(path, plane, compression=compression)
    with tifffile.TiffFile(path) as tiff:
        assert tiff.pages[0].compression.name == TAG_NAMES[compression]
    read = read_image(path)
    assert read.dtype == np.uint16
    np.testing.assert_array_equal(read, plane)


@pytest.mark.parametrize("compression", TIFF_COMPRESSIONS)
def test_undecodable_compressed_tiff_is_named(tmp_path: Path, compression: str) -> None:
    path = tmp_path / f"{compression}.tiff"
    tifffile.imwrite(path, np.ones((20, 24), dtype=np.uint16), compression=compression)
    corrupt_pixels(path)
    with pytest.raises(ValueError, match=f"unreadable image file {path}: "):
        read_image(path)
