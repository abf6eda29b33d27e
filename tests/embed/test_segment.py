"""Seeded watershed from nucleus centres on hand-made images with known cells."""

from __future__ import annotations

import numpy as np
import pytest

from celldino_utils.embed.segment import segment_from_centres


def _disk(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    rows, cols = np.indices(shape)
    return (cols - centre[0]) ** 2 + (rows - centre[1]) ** 2 <= radius**2


def _two_touching_cells() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """A (2, 48, 64) image: two touching disk cells (channel 1) with small bright nuclei (channel 0)."""
    shape = (48, 64)
    centres = np.array([[22.0, 24.0], [42.0, 24.0]])  # x, y: 20 px apart, radius 11 -> they overlap
    cells = [_disk(shape, tuple(c), 11) for c in centres]
    image = np.zeros((2, *shape), dtype=np.float32)
    image[1] = 0.5 * (cells[0] | cells[1])
    for c in centres:
        image[0] += _disk(shape, tuple(c), 4)
    image += np.random.default_rng(0).normal(0.0, 0.01, image.shape).astype(np.float32)
    return image, centres, cells


def test_each_centre_gets_its_own_region_in_centre_order() -> None:
    image, centres, cells = _two_touching_cells()
    labels = segment_from_centres(image, centres, nucleus_channel=0, cytoplasm_channels=(1,))
    assert labels.shape == image.shape[1:] and labels.dtype == np.int32
    assert set(np.unique(labels)) == {0, 1, 2}
    for k, cell in enumerate(cells, start=1):
        assert labels[int(centres[k - 1, 1]), int(centres[k - 1, 0])] == k
        own = cell & ~cells[2 - k]  # the part of cell k that the other cell does not share
        assert (labels[own] == k).mean() > 0.95
    assert (labels[~(cells[0] | cells[1])] == 0).mean() > 0.95
    swapped = segment_from_centres(image, centres[::-1], nucleus_channel=0, cytoplasm_channels=(1,))
    assert np.array_equal(swapped, np.choose(labels, [0, 2, 1]))


def test_a_centre_in_the_background_gets_a_small_disk() -> None:
    image, centres, _ = _two_touching_cells()
    stray = np.vstack([centres, [[5.0, 5.0]]])
    labels = segment_from_centres(image, stray, nucleus_channel=0, cytoplasm_channels=(1,), fallback_radius=2)
    assert labels[5, 5] == 3
    assert 1 <= (labels == 3).sum() <= 13  # a disk of radius 2 has 13 pixels


def test_no_centres_gives_background() -> None:
    image, _, _ = _two_touching_cells()
    labels = segment_from_centres(image, np.empty((0, 2)), nucleus_channel=0, cytoplasm_channels=(1,))
    assert not labels.any()


@pytest.mark.parametrize(
    ("centres", "kwargs", "message"),
    [
        (np.array([[70.0, 10.0]]), {}, "outside"),
        (np.array([[10.2, 10.0], [9.8, 10.1]]), {}, r"objects \[1, 2\].*same pixel"),
        (np.array([10.0, 10.0]), {}, r"shape \(N, 2\)"),
        (np.array([[10.0, 10.0]]), {"cytoplasm_channels": (5,)}, "cytoplasm_channels"),
    ],
)
def test_bad_input_raises(centres: np.ndarray, kwargs: dict, message: str) -> None:
    image, _, _ = _two_touching_cells()
    options = {"nucleus_channel": 0, "cytoplasm_channels": (1,)} | kwargs
    with pytest.raises(ValueError, match=message):
        segment_from_centres(image, centres, **options)
