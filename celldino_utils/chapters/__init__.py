"""Chapter drivers: what one notebook of the series does, from files to files, in one call.

The top layer of the package: it may import every stage (``embed``, ``correct``, ``evaluate``, ``plot``) and is
the only place above ``io`` that reads and writes files; nothing below imports it. Each driver reads inputs named
by :func:`celldino_utils.io.profiles.profile_path`, runs stages, writes outputs the same way, and returns a
small report table for the notebook to show.
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
from celldino_utils.chapters.images import (
    channel_fit,
    embed_plate,
    embed_plate_released,
    plate_channels,
    write_example_plate,
)
from celldino_utils.chapters.tables import read_localisation_cells
from celldino_utils.chapters.training import ModelRun, train_or_take

__all__ = [
    "CurveScore",
    "EmbedJob",
    "ModelRun",
    "cellprofiler_suite",
    "channel_fit",
    "compute_curve",
    "correct_cellpainting_wells",
    "correct_hpa_fields",
    "crops_as_embedded",
    "embed_plate",
    "embed_plate_released",
    "embed_suite",
    "heldout_probe_score",
    "learnability_margin",
    "plate_channels",
    "read_localisation_cells",
    "sphered_knn_score",
    "sphered_wells",
    "supervised_reference",
    "train_or_take",
    "write_example_plate",
]
