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
from celldino_utils.chapters.figures import DrawnFigure, draw_figure_a, draw_figure_b, draw_figure_c, draw_figure_d
from celldino_utils.chapters.tables import (
    Results,
    SupplementTable,
    fields_table,
    localisation_table,
    moa_table,
    read_localisation_cells,
    results_tables,
)
from celldino_utils.chapters.training import ModelRun, train_or_take

__all__ = [
    "CurveScore",
    "DrawnFigure",
    "EmbedJob",
    "ModelRun",
    "Results",
    "SupplementTable",
    "draw_figure_a",
    "draw_figure_b",
    "draw_figure_c",
    "draw_figure_d",
    "fields_table",
    "localisation_table",
    "moa_table",
    "results_tables",
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
