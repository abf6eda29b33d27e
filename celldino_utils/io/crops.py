"""Single-cell crops: centres from label masks, fixed-size windows around centres."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage


def cell_centres(labels: np.ndarray) -> pd.DataFrame:
    """Centroid of every labelled object of an ``(H, W)`` mask.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell_id`` (the label), ``center_x``, ``center_y`` (pixels), one row per label > 0, ascending.
    """
    ids = np.unique(labels)
    ids = ids[ids > 0]
    if len(ids) == 0:
        return pd.DataFrame({"cell_id": pd.Series(dtype=int), "center_x": [], "center_y": []})
    centres = np.asarray(ndimage.center_of_mass(np.ones_like(labels, dtype=np.uint8), labels, ids), dtype=float)
    return pd.DataFrame({"cell_id": ids.astype(int), "center_x": centres[:, 1], "center_y": centres[:, 0]})


def crop_around(image: np.ndarray, *, center_x: float, center_y: float, size: int) -> np.ndarray:
    """Cut a ``(C, size, size)`` window centred on (x, y) from a ``(C, H, W)`` image, zero-padding at the borders."""
    channels, height, width = image.shape
    top = int(round(center_y)) - size // 2
    left = int(round(center_x)) - size // 2
    crop = np.zeros((channels, size, size), dtype=image.dtype)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + size, height), min(left + size, width)
    if y1 > y0 and x1 > x0:
        crop[:, y0 - top : y1 - top, x0 - left : x1 - left] = image[:, y0:y1, x0:x1]
    return crop


def crop_cell(
    image: np.ndarray,
    labels: np.ndarray,
    *,
    cell_id: int,
    center_x: float,
    center_y: float,
    size: int,
    mask_outside: bool = True,
) -> np.ndarray:
    """Crop one segmented cell; with ``mask_outside`` the pixels that do not belong to it are set to zero."""
    crop = crop_around(image, center_x=center_x, center_y=center_y, size=size)
    if mask_outside:
        keep = crop_around(labels[None] == cell_id, center_x=center_x, center_y=center_y, size=size)[0]
        crop = crop * keep
    return crop
