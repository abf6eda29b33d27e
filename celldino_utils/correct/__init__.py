"""Batch correction of profile tables: Harmony (HPA) and sphering on DMSO controls (Cell Painting).

Output feature names: ``harmony_0000 ...`` (Harmony), ``pca_0000 ...`` (PCA), and for ``sphere`` the
names of the whitened space (input features, or ``pca_*`` after reduction; ``sphered_*`` for PCA whitening).
"""

from celldino_utils.correct.harmony import harmony
from celldino_utils.correct.pca import pca
from celldino_utils.correct.registry import CORRECTION_METHODS, correct, none
from celldino_utils.correct.sphering import (
    aggregate_wells,
    consensus,
    normalize_plates,
    select_features,
    sphere,
    sphering,
    sphering_from_cells,
)
from celldino_utils.correct.suite import correct_cellpainting_wells, correct_hpa_fields

__all__ = [
    "CORRECTION_METHODS",
    "aggregate_wells",
    "consensus",
    "correct",
    "correct_cellpainting_wells",
    "correct_hpa_fields",
    "harmony",
    "none",
    "normalize_plates",
    "pca",
    "select_features",
    "sphere",
    "sphering",
    "sphering_from_cells",
]
