"""Read single image files with errors that name the file.

TIFFs are read by tifffile, compressed ones (LZW, Deflate, Zstd, PackBits, as microscopes and CellProfiler
pipelines write them) through the codecs of ``imagecodecs``; PNG and other formats by Pillow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, UnidentifiedImageError

_TIFF_SUFFIXES = (".tif", ".tiff")


def read_image(path: str | Path) -> np.ndarray:
    """Read a PNG or TIFF file as an array of its native dtype, ``(H, W)`` or ``(H, W, C)``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file cannot be decoded as an image: not an image, truncated, or compressed data that its codec
        refuses (the ``imagecodecs`` codecs raise subclasses of RuntimeError, caught here to name the file).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        if path.suffix.lower() in _TIFF_SUFFIXES:
            return tifffile.imread(path)
        with Image.open(path) as image:
            return np.asarray(image)
    except (UnidentifiedImageError, OSError, ValueError, RuntimeError, tifffile.TiffFileError) as err:
        raise ValueError(f"unreadable image file {path}: {err}") from err


def image_shape(path: str | Path) -> tuple[int, ...]:
    """The shape :func:`read_image` would return for ``path``, read from the file's header alone (no pixels decoded).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file's header cannot be read as an image's.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        if path.suffix.lower() in _TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tiff:
                return tuple(int(n) for n in tiff.series[0].shape)
        with Image.open(path) as image:
            width, height = image.size
            bands = len(image.getbands())
    except (UnidentifiedImageError, OSError, ValueError, IndexError, tifffile.TiffFileError) as err:
        raise ValueError(f"unreadable image file {path}: {err}") from err
    return (height, width) if bands == 1 else (height, width, bands)


def to_unit_float(array: np.ndarray, *, source: str) -> np.ndarray:
    """Scale an integer image to float32 in [0, 1] by its dtype's maximum (uint8 / 255, uint16 / 65535)."""
    if array.dtype == np.uint8 or array.dtype == np.uint16:
        return array.astype(np.float32) / np.iinfo(array.dtype).max
    if array.dtype == np.int32 and array.max(initial=0) <= np.iinfo(np.uint16).max and array.min(initial=0) >= 0:
        return array.astype(np.float32) / np.iinfo(np.uint16).max
    raise ValueError(f"{source}: unsupported pixel type {array.dtype}; expected 8- or 16-bit images")


def stack_channels(paths: list[Path], *, source: str) -> np.ndarray:
    """Read one single-channel file per channel and stack them as float32 ``(C, H, W)`` in [0, 1].

    Every file must hold a 2-D image and all must share one size; the error names the file that breaks it.
    """
    planes: list[np.ndarray] = []
    for path in paths:
        plane = read_image(path)
        if plane.ndim != 2:
            raise ValueError(f"{path}: expected a single-channel image, got shape {plane.shape}")
        if planes and plane.shape != planes[0].shape:
            raise ValueError(
                f"{source}: channel file {path} has size {plane.shape}, but {paths[0]} has {planes[0].shape}"
            )
        planes.append(to_unit_float(plane, source=str(path)))
    return np.stack(planes)
