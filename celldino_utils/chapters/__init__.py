"""Chapter drivers: what one notebook of the series does, from files to files, in one or two calls.

The top layer of the package (with ``runner``): it may import every stage (``embed``, ``correct``, ``evaluate``,
``plot``) and nothing below imports it. A driver takes the notebook's parameters as given (paths relative to the
project root are resolved here), runs the stages, writes its outputs where those parameters say (tables and
figures beside them) and returns what the chapter shows: tables, closed figures and short reports, which the
notebook displays where its text says. What each notebook reads and writes is declared in
``configs/notebooks.yaml`` (:mod:`celldino_utils.runner.declarations`), and the runner fails a notebook that
writes elsewhere.
"""

from celldino_utils.chapters.compute import ComputeCurve, draw_compute_curve
from celldino_utils.chapters.correction import (
    Corrections,
    correct_and_measure,
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
from celldino_utils.chapters.data import DataSets, show_data
from celldino_utils.chapters.embedding import (
    Embeddings,
    EmbedJob,
    cellprofiler_suite,
    crops_as_embedded,
    embed_everything,
    embed_suite,
    job_of,
)
from celldino_utils.chapters.figures import DrawnFigure, draw_figure_a, draw_figure_b, draw_figure_c, draw_figure_d
from celldino_utils.chapters.guide import Guide, follow_guide
from celldino_utils.chapters.images import (
    OwnPlate,
    channel_fit,
    embed_own_plate,
    embed_plate,
    embed_plate_released,
    plate_channels,
    write_example_plate,
)
from celldino_utils.chapters.tables import (
    Results,
    SupplementTable,
    fields_table,
    localisation_table,
    moa_table,
    read_localisation_cells,
    results_tables,
)
from celldino_utils.chapters.training import ModelRun, TrainedModels, train_models, train_or_take

__all__ = [
    "ComputeCurve",
    "Corrections",
    "CurveScore",
    "DataSets",
    "DrawnFigure",
    "EmbedJob",
    "Embeddings",
    "Guide",
    "ModelRun",
    "OwnPlate",
    "Results",
    "SupplementTable",
    "TrainedModels",
    "cellprofiler_suite",
    "channel_fit",
    "compute_curve",
    "correct_and_measure",
    "correct_cellpainting_wells",
    "correct_hpa_fields",
    "crops_as_embedded",
    "draw_compute_curve",
    "draw_figure_a",
    "draw_figure_b",
    "draw_figure_c",
    "draw_figure_d",
    "embed_everything",
    "embed_own_plate",
    "embed_plate",
    "embed_plate_released",
    "embed_suite",
    "fields_table",
    "follow_guide",
    "heldout_probe_score",
    "job_of",
    "learnability_margin",
    "localisation_table",
    "moa_table",
    "plate_channels",
    "read_localisation_cells",
    "results_tables",
    "show_data",
    "sphered_knn_score",
    "sphered_wells",
    "supervised_reference",
    "train_models",
    "train_or_take",
    "write_example_plate",
]
