"""A folder of natural photographs, one RGB image per file: what a natural-image model trains on.

The paper's Cell-DINO+ starts cell self-supervision from a model trained on natural images (DINOv2). The
``photographs`` format lets the same training code learn such a model from any folder of RGB images
(PNG, JPEG or TIFF, in sub-folders too); the default profile writes one from the sample photographs that
ship with scikit-image and scikit-learn (``celldino_utils.synthetic.photographs``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from celldino_utils.io.hpa import PATHS_COLUMN
from celldino_utils.io.images import image_shape

#: File suffixes read as photographs (case-insensitive).
PHOTOGRAPH_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def read_photographs(data_dir: Path) -> pd.DataFrame:
    """Index every photograph under ``data_dir``, in sorted path order.

    Returns
    -------
    pandas.DataFrame
        One row per file: ``Metadata_file`` (its path relative to ``data_dir``) and the paths column that
        :class:`celldino_utils.io.datasets.FieldDataset` reads (one RGB file per image).

    Raises
    ------
    FileNotFoundError
        Naming the folder and the suffixes looked for, when it holds no image file.
    ValueError
        Naming the files that are not 3-channel images (grayscale, RGBA, CMYK), from their headers, so that
        training stops here and not at the step that first draws one of them.
    """
    files = sorted(p for p in Path(data_dir).rglob("*") if p.is_file() and p.suffix.lower() in PHOTOGRAPH_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{data_dir}: no photographs (files ending in {', '.join(PHOTOGRAPH_SUFFIXES)})")
    shapes = {p: image_shape(p) for p in files}
    not_rgb = [f"{p.relative_to(data_dir).as_posix()} {s}" for p, s in shapes.items() if len(s) != 3 or s[-1] != 3]
    if not_rgb:
        raise ValueError(
            f"{data_dir}: {len(not_rgb)} file(s) are not RGB, e.g. {', '.join(not_rgb[:5])} (shape from the header); "
            "the photographs format needs 3 channels: convert them to RGB"
        )
    return pd.DataFrame(
        {"Metadata_file": [p.relative_to(data_dir).as_posix() for p in files], PATHS_COLUMN: [(p,) for p in files]}
    )
