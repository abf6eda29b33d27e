"""The installed sample photographs written as tiles in the photographs format."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from celldino_utils.io import open_fields
from celldino_utils.synthetic import ensure_synthetic, generate_photographs, photographs_preset
from celldino_utils.synthetic.photographs import SKIMAGE_PHOTOGRAPHS, SKLEARN_PHOTOGRAPHS, sample_photographs


def test_every_installed_photograph_is_found_as_rgb() -> None:
    photographs = sample_photographs()
    assert list(photographs) == [*SKIMAGE_PHOTOGRAPHS, *SKLEARN_PHOTOGRAPHS]
    shapes = {name: (image.ndim, image.shape[-1], image.dtype.name) for name, (_, image) in photographs.items()}
    assert set(shapes.values()) == {(3, 3, "uint8")}


def test_tiles_cover_each_resized_photograph_and_open_as_fields(tmp_path: Path) -> None:
    config = photographs_preset("tiny")
    table = generate_photographs(tmp_path, config)
    assert set(table["photograph"]) == {*SKIMAGE_PHOTOGRAPHS, *SKLEARN_PHOTOGRAPHS}
    # a 64 px shorter side gives two rows of 32 px tiles, and at least two columns
    per_photo = table.groupby("photograph")
    assert (per_photo["row"].max() == 1).all() and (per_photo["col"].max() >= 1).all()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "photographs.csv"), table)
    fields = open_fields("photographs", tmp_path)
    assert len(fields) == len(table) and tuple(fields[0].shape) == (3, config.tile_px, config.tile_px)


def test_presets_check_their_fields(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown PhotographsConfig fields"):
        photographs_preset("default", tile=3)
    with pytest.raises(ValueError, match="shorter_side"):
        photographs_preset("default", shorter_side=64)
    made = ensure_synthetic("photographs", tmp_path / "photographs", {"preset": "tiny"})
    assert (made / "synthetic.json").is_file()
