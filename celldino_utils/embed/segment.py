"""Cell segmentation seeded by known nucleus centres, for data sets that ship no cell masks (Cell Painting).

The Cell Painting Gallery ships nucleus centres (CellProfiler ``Nuclei_Location_Center_X/Y``) but no
label images. The CellProfiler-style baseline (supplement, recommendation 4) needs a cell outline per
nucleus, so this module grows one region per centre with a seeded watershed, in the spirit of
CellProfiler's ``IdentifySecondaryObjects`` (propagation from nuclei, Otsu threshold).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.segmentation import watershed


def _unit_scale(plane: np.ndarray, *, percentile: float) -> np.ndarray:
    """``plane`` minus its minimum, divided by its ``percentile``-th percentile above the minimum."""
    shifted = plane - plane.min()
    scale = np.percentile(shifted, percentile)
    return shifted / scale if scale > 0 else shifted


def _foreground(plane: np.ndarray, *, threshold_scale: float) -> np.ndarray:
    """Pixels above ``threshold_scale`` times the Otsu threshold of ``plane`` (nothing for a flat plane)."""
    if plane.max() <= plane.min():
        return np.zeros(plane.shape, dtype=bool)
    return plane > threshold_scale * threshold_otsu(plane)


def _check_centres(centres: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Validate ``(N, 2)`` x, y centres and return their ``(N, 2)`` integer row, column pixels."""
    centres = np.asarray(centres, dtype=float)
    if centres.ndim != 2 or centres.shape[1] != 2:
        raise ValueError(f"centres must have shape (N, 2) holding x, y; got {centres.shape}")
    if not np.isfinite(centres).all():
        raise ValueError(f"centres hold NaN or infinite values at row(s) {np.flatnonzero(~np.isfinite(centres))}")
    pixels = np.rint(centres[:, ::-1]).astype(int)
    outside = np.flatnonzero(((pixels < 0) | (pixels >= np.asarray(shape))).any(axis=1))
    if len(outside):
        k = int(outside[0])
        raise ValueError(
            f"{len(outside)} centre(s) lie outside the {shape[1]}x{shape[0]} image, "
            f"e.g. object {k + 1} at x={centres[k, 0]:.1f}, y={centres[k, 1]:.1f}"
        )
    flat = pixels[:, 0] * shape[1] + pixels[:, 1]
    _, first, counts = np.unique(flat, return_index=True, return_counts=True)
    if (counts > 1).any():
        pixel = pixels[first[counts > 1][0]]
        shared = np.flatnonzero(flat == flat[first[counts > 1][0]]) + 1
        raise ValueError(
            f"objects {shared.tolist()} have centres on the same pixel (x={pixel[1]}, y={pixel[0]}); "
            "they cannot be told apart"
        )
    return pixels


def _add_missing_disks(labels: np.ndarray, pixels: np.ndarray, *, radius: int) -> np.ndarray:
    """Give every object absent from ``labels`` a disk of ``radius`` around its centre pixel.

    A disk only takes background pixels (an absent object's centre is one), so it never erases another object.
    """
    present = np.zeros(len(pixels) + 1, dtype=bool)
    present[np.unique(labels)] = True
    rows, cols = np.ogrid[: labels.shape[0], : labels.shape[1]]
    for k in np.flatnonzero(~present[1:]) + 1:
        r, c = pixels[k - 1]
        disk = (rows - r) ** 2 + (cols - c) ** 2 <= radius**2
        labels[disk & (labels == 0)] = k
    return labels


def segment_from_centres(
    image: np.ndarray,
    centres: np.ndarray,
    *,
    nucleus_channel: int,
    cytoplasm_channels: tuple[int, ...],
    sigma: float = 2.0,
    threshold_scale: float = 1.0,
    compactness: float = 0.1,
    fallback_radius: int = 3,
) -> np.ndarray:
    """Segment one cell per nucleus centre with a seeded watershed.

    Each channel is shifted to a zero minimum and scaled by its 99th percentile. The cell-body signal is
    the mean of the scaled ``cytoplasm_channels``, smoothed with a Gaussian of ``sigma`` pixels; the
    foreground is where it, or the smoothed nucleus channel, exceeds ``threshold_scale`` times its Otsu
    threshold. A compact watershed of the negative body signal, seeded at the centres and restricted to
    the foreground, grows one region per centre; foreground not reachable from any centre stays 0.
    With the default ``compactness`` the split between touching cells follows distance more than
    intensity: on the default synthetic HPA data (centres from the nucleus masks) the regions match the
    true cell masks with a mean IoU of 0.89, against 0.83 for a plain watershed (``compactness=0``).

    A centre whose cell is not found (it lies in the background, outside the foreground) is not
    dropped: it gets a disk of ``fallback_radius`` pixels around the centre (its background pixels),
    so every centre has an object and the labels line up with the nucleus table.

    Parameters
    ----------
    image
        ``(C, H, W)`` float image.
    centres
        ``(N, 2)`` nucleus centres as x, y pixels, in object-number order.
    nucleus_channel, cytoplasm_channels
        Channel indices of the nucleus stain and of the stains that fill the cell body.
    sigma
        Gaussian smoothing of the signals, in pixels.
    threshold_scale
        Factor on the Otsu thresholds (CellProfiler's threshold correction factor).
    compactness
        Compactness of the watershed (0: plain watershed; larger: regions closer to Voronoi cells).
    fallback_radius
        Radius in pixels of the disk given to a centre whose cell is not found.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` int32 labels: pixels of the ``k``-th centre (row ``k - 1``) hold ``k``, background 0;
        for the centres of a nucleus table in ``ObjectNumber`` order ``1..N``, label ``k`` is nucleus ``k``.

    Raises
    ------
    ValueError
        If the image is not ``(C, H, W)``, a channel index is out of range, a centre lies outside the
        image, or two centres fall on the same pixel.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise ValueError(f"image must have shape (C, H, W); got {image.shape}")
    channels = (nucleus_channel, *cytoplasm_channels)
    if not cytoplasm_channels or any(not 0 <= c < image.shape[0] for c in channels):
        raise ValueError(
            f"nucleus_channel={nucleus_channel} and cytoplasm_channels={cytoplasm_channels} must be non-empty "
            f"indices into {image.shape[0]} channels"
        )
    pixels = _check_centres(centres, image.shape[1:])
    labels = np.zeros(image.shape[1:], dtype=np.int32)
    if len(pixels) == 0:
        return labels
    scaled = {c: _unit_scale(image[c], percentile=99.0) for c in channels}
    body = ndimage.gaussian_filter(np.mean([scaled[c] for c in cytoplasm_channels], axis=0), sigma)
    nucleus = ndimage.gaussian_filter(scaled[nucleus_channel], sigma)
    mask = _foreground(body, threshold_scale=threshold_scale) | _foreground(nucleus, threshold_scale=threshold_scale)
    markers = np.zeros_like(labels)
    markers[pixels[:, 0], pixels[:, 1]] = np.arange(1, len(pixels) + 1)
    labels = watershed(-body, markers, mask=mask, compactness=compactness).astype(np.int32)
    return _add_missing_disks(labels, pixels, radius=fallback_radius)
