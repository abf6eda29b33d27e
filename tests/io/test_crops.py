from __future__ import annotations

import numpy as np

from celldino_utils.io.crops import cell_centres, crop_around, crop_cell


def test_cell_centres_are_centroids() -> None:
    labels = np.zeros((10, 10), dtype=np.uint16)
    labels[0:2, 0:4] = 3
    labels[6:9, 5:8] = 7
    centres = cell_centres(labels)
    assert list(centres["cell_id"]) == [3, 7]
    np.testing.assert_allclose(centres[["center_x", "center_y"]].to_numpy(), [[1.5, 0.5], [6.0, 7.0]])


def test_crop_inside_and_at_the_border() -> None:
    image = np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6)
    np.testing.assert_array_equal(crop_around(image, center_x=3, center_y=3, size=4), image[:, 1:5, 1:5])
    corner = crop_around(image, center_x=0, center_y=0, size=4)
    np.testing.assert_array_equal(corner[:, 2:, 2:], image[:, :2, :2])
    assert corner[:, :2].sum() == 0


def test_crop_cell_masks_other_cells() -> None:
    image = np.ones((1, 6, 6), dtype=np.float32)
    labels = np.zeros((6, 6), dtype=np.uint16)
    labels[1:3, 1:3] = 1
    labels[3:5, 3:5] = 2
    crop = crop_cell(image, labels, cell_id=1, center_x=2, center_y=2, size=6)
    assert crop.sum() == 4
