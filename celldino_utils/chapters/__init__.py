"""Chapter drivers: what one notebook of the series does, from files to files, in one call.

The top layer of the package (with ``runner``): it may import every stage (``embed``, ``correct``, ``evaluate``,
``plot``) and nothing below imports it. A driver reads the files its notebook's parameters name, runs stages,
writes its outputs where those parameters say, and returns a small report table for the notebook to show. What
each notebook reads and writes is declared in ``configs/notebooks.yaml`` (:mod:`celldino_utils.runner.declarations`),
and the runner fails a notebook that writes elsewhere.
"""

from celldino_utils.chapters.correction import (
    correct_cellpainting_wells,
    correct_hpa_fields,
    sphered_knn_score,
    sphered_wells,
)
from celldino_utils.chapters.curve import (
    CurveScore,
    compute_curve,
    heldout_probe_score,
    learnability_margin,
    supervised_reference,
)
from celldino_utils.chapters.embedding import EmbedJob, cellprofiler_suite, crops_as_embedded, embed_suite
from celldino_utils.chapters.tables import read_localisation_cells
from celldino_utils.chapters.training import ModelRun, train_or_take

__all__ = [
    "CurveScore",
    "EmbedJob",
    "ModelRun",
    "cellprofiler_suite",
    "compute_curve",
    "correct_cellpainting_wells",
    "correct_hpa_fields",
    "crops_as_embedded",
    "embed_suite",
    "heldout_probe_score",
    "learnability_margin",
    "read_localisation_cells",
    "sphered_knn_score",
    "sphered_wells",
    "supervised_reference",
    "train_or_take",
]
