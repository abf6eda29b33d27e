"""Single-cell crops: centres from label masks, fixed-size windows around centres, sides at a model's training scale.

A crop side is given in pixels of the training scale: fields whose shorter side is ``field_px``, the side
of the fields the model was trained on. In a field whose shorter side is ``S`` the window is cut at
``round(crop_size * S / field_px)`` native pixels and resized to ``crop_size`` (:func:`native_crop_side`,
:func:`resize_crop`), so a cell covers as many model pixels as it did in training, whatever the field's size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
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


def window_start(center: float, *, size: int, extent: int) -> int:
    """First pixel of a ``size`` window around ``center`` along an axis of ``extent`` pixels.

    The window is centred on the rounded centre, then shifted to lie inside the image when the image is at
    least ``size`` long: a cell near the border stays whole, off-centre, instead of sharing its crop with a
    band of zeros (which per-crop normalisation would turn into the crop's strongest signal). Along an axis
    shorter than ``size`` the window stays centred and :func:`crop_around` pads it with zeros.
    """
    start = int(round(center)) - size // 2
    if extent >= size:
        start = min(max(start, 0), extent - size)
    return start


def crop_around(image: np.ndarray, *, center_x: float, center_y: float, size: int) -> np.ndarray:
    """Cut a ``(C, size, size)`` window around (x, y) from a ``(C, H, W)`` image.

    The window is shifted inside the image at the borders (:func:`window_start`); only an image smaller
    than ``size`` along an axis is zero-padded along it.
    """
    channels, height, width = image.shape
    top = window_start(center_y, size=size, extent=height)
    left = window_start(center_x, size=size, extent=width)
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


def native_crop_side(crop_size: int, *, field_side: int, field_px: int | None) -> int:
    """Native side of a crop of ``crop_size`` training-scale pixels, in a field whose shorter side is ``field_side``.

    ``round(crop_size * field_side / field_px)`` (at least 1); ``crop_size`` itself when ``field_px`` is None
    (training scale unknown: crops are cut in native pixels).
    """
    if field_px is None:
        return crop_size
    if field_px < 1:
        raise ValueError(f"field_px must be a positive number of pixels, got {field_px}")
    return max(1, round(crop_size * field_side / field_px))


def resize_crop(crop: np.ndarray, *, size: int) -> np.ndarray:
    """Resize a float crop ``(C, s, s)`` to ``(C, size, size)``, bilinear, antialiased; as it is if ``s == size``."""
    if crop.shape[-2:] == (size, size):
        return crop
    resized = F.interpolate(
        torch.from_numpy(np.ascontiguousarray(crop))[None], size=(size, size), mode="bilinear", antialias=True
    )
    return resized[0].numpy()
