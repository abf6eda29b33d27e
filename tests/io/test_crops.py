from __future__ import annotations

import numpy as np
import pytest

from celldino_utils.io.crops import (
    cell_centres,
    crop_around,
    crop_cell,
    native_crop_side,
    resize_crop,
    window_start,
)


def test_cell_centres_are_centroids() -> None:
    labels = np.zeros((10, 10), dtype=np.uint16)
    labels[0:2, 0:4] = 3
    labels[6:9, 5:8] = 7
    centres = cell_centres(labels)
    assert list(centres["cell_id"]) == [3, 7]
    np.testing.assert_allclose(centres[["center_x", "center_y"]].to_numpy(), [[1.5, 0.5], [6.0, 7.0]])


def test_crop_inside_and_shifted_inside_at_the_border() -> None:
    image = np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6)
    np.testing.assert_array_equal(crop_around(image, center_x=3, center_y=3, size=4), image[:, 1:5, 1:5])
    np.testing.assert_array_equal(crop_around(image, center_x=0, center_y=0, size=4), image[:, :4, :4])
    np.testing.assert_array_equal(crop_around(image, center_x=5.6, center_y=0.4, size=4), image[:, :4, 2:])


def test_crop_pads_only_along_an_axis_shorter_than_the_window() -> None:
    image = np.ones((1, 3, 8), dtype=np.float32)
    crop = crop_around(image, center_x=7, center_y=1, size=4)
    np.testing.assert_array_equal(crop[0, 1:], np.ones((3, 4)))  # the image's three rows, shifted inside along x
    assert crop[0, 0].sum() == 0  # centred along y, where the image is shorter than the window: one row of padding
    assert [window_start(c, size=4, extent=3) for c in (0, 1, 2)] == [-2, -1, 0]


def test_crop_cell_masks_other_cells() -> None:
    image = np.ones((1, 6, 6), dtype=np.float32)
    labels = np.zeros((6, 6), dtype=np.uint16)
    labels[1:3, 1:3] = 1
    labels[3:5, 3:5] = 2
    crop = crop_cell(image, labels, cell_id=1, center_x=2, center_y=2, size=6)
    assert crop.sum() == 4


def test_native_crop_side_counts_training_scale_pixels() -> None:
    assert native_crop_side(48, field_side=2048, field_px=128) == 768
    assert native_crop_side(48, field_side=3072, field_px=128) == 1152
    assert native_crop_side(48, field_side=128, field_px=128) == 48
    assert native_crop_side(32, field_side=100, field_px=512) == 6  # 6.25 native pixels
    assert native_crop_side(48, field_side=2048, field_px=None) == 48
    with pytest.raises(ValueError, match="field_px must be a positive"):
        native_crop_side(48, field_side=2048, field_px=0)


def test_resize_crop_keeps_a_crop_of_its_size_and_averages_when_shrinking() -> None:
    crop = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
    assert resize_crop(crop, size=8) is crop
    flat = np.full((2, 12, 12), 0.25, dtype=np.float32)
    np.testing.assert_allclose(resize_crop(flat, size=3), np.full((2, 3, 3), 0.25), atol=1e-7)
    ramp = np.broadcast_to(np.arange(16, dtype=np.float32), (1, 16, 16))  # x = column
    # each output pixel of a 4x reduction averages its 4-pixel block symmetrically: interior columns 4j + 1.5
    np.testing.assert_allclose(resize_crop(ramp, size=4)[0, 1, 1:3], [5.5, 9.5], atol=1e-5)
