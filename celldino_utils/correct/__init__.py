"""Batch correction of profile tables: Harmony (HPA) and sphering on DMSO controls (Cell Painting).

Output feature names: ``harmony_0000 ...`` (Harmony), ``pca_0000 ...`` (PCA), and for ``sphere`` the
names of the whitened space (input features, or ``pca_*`` after reduction; ``sphered_*`` for PCA whitening).

Layer 3, a stage (with ``embed``, ``evaluate``, ``plot``): imports the layers below; never ``chapters``.
"""

from celldino_utils.correct.harmony import harmony
from celldino_utils.correct.pca import pca
from celldino_utils.correct.profiling import aggregate_wells, consensus, normalize_plates, select_features
from celldino_utils.correct.registry import CORRECTION_METHODS, correct, none
from celldino_utils.correct.sphering import sphere, sphering, sphering_from_cells

__all__ = [
    "CORRECTION_METHODS",
    "aggregate_wells",
    "consensus",
    "correct",
    "harmony",
    "none",
    "normalize_plates",
    "pca",
    "select_features",
    "sphere",
    "sphering",
    "sphering_from_cells",
]
