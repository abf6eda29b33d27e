"""Synthetic data sets in the real on-disk formats, with known ground truth.

Layer 1 (with ``augment``, ``models``): imports ``io`` and ``augment`` (the cell crops a model sees). The
generators write their data sets to disk; :mod:`~celldino_utils.synthetic.profile` makes a profile's sets once
and stamps them (:mod:`celldino_utils.io.stamps`), so settings or code that changed make them again.
"""

from celldino_utils.synthetic.cellpainting import (
    CellPaintingSyntheticConfig,
    cellpainting_preset,
    generate_cellpainting,
    planted_cellpainting_effects,
)
from celldino_utils.synthetic.hpa import HPASyntheticConfig, generate_hpa, hpa_preset
from celldino_utils.synthetic.images import write_ome_tiff_plate
from celldino_utils.synthetic.photographs import PhotographsConfig, generate_photographs, photographs_preset
from celldino_utils.synthetic.profile import ensure_synthetic, generate_profile_data

__all__ = [
    "CellPaintingSyntheticConfig",
    "HPASyntheticConfig",
    "PhotographsConfig",
    "cellpainting_preset",
    "ensure_synthetic",
    "generate_cellpainting",
    "generate_hpa",
    "generate_photographs",
    "generate_profile_data",
    "hpa_preset",
    "photographs_preset",
    "planted_cellpainting_effects",
    "write_ome_tiff_plate",
]
