"""Evaluation of frozen features and of batch correction.

Layer 3, a stage (with ``embed``, ``correct``, ``plot``): imports the layers below (``config``, ``io``, ``augment``,
and ``train``'s optimiser and schedules for fine-tuning) and no other stage. DataFrames and arrays in, tables out;
nothing here reads or writes files.
"""

from celldino_utils.evaluate.batch_metrics import (
    batch_metric_table,
    knn_score,
    moa_map,
    replicate_map,
    retrieval_table,
    silhouette,
)
from celldino_utils.evaluate.claims import claim_checks, planted_truth_checks
from celldino_utils.evaluate.finetune import (
    FineTuneClassifier,
    finetune_classifier,
    finetune_f1,
    heldout_finetune_f1,
    predict_fields,
)
from celldino_utils.evaluate.heterogeneity import (
    cell_similarity,
    heterogeneity_score,
    mean_similarity_to_others,
    outlier_cells,
)
from celldino_utils.evaluate.linear_probe import heldout_probe_f1, linear_probe_f1
from celldino_utils.evaluate.mlp_probe import (
    build_mlp_probe,
    evaluate_localisation_map,
    fov_logits,
    macro_average_precision,
    multi_hot,
    predict_logits,
    train_mlp_probe,
)
from celldino_utils.evaluate.moa import (
    MULTI_MOA,
    describe_moa_task,
    dose_groups,
    moa_auprc,
    moa_by_dose,
    moa_task_wells,
    summarise_moa_runs,
)
from celldino_utils.evaluate.paper_values import merge_run, published_table, table_title
from celldino_utils.evaluate.splits import attach_split, compound_split, grouped_split

__all__ = [
    "claim_checks",
    "MULTI_MOA",
    "attach_split",
    "FineTuneClassifier",
    "batch_metric_table",
    "build_mlp_probe",
    "cell_similarity",
    "compound_split",
    "describe_moa_task",
    "dose_groups",
    "evaluate_localisation_map",
    "finetune_classifier",
    "finetune_f1",
    "fov_logits",
    "grouped_split",
    "heldout_finetune_f1",
    "heldout_probe_f1",
    "heterogeneity_score",
    "knn_score",
    "linear_probe_f1",
    "macro_average_precision",
    "mean_similarity_to_others",
    "merge_run",
    "moa_auprc",
    "moa_by_dose",
    "moa_map",
    "moa_task_wells",
    "multi_hot",
    "outlier_cells",
    "planted_truth_checks",
    "predict_fields",
    "predict_logits",
    "published_table",
    "replicate_map",
    "retrieval_table",
    "silhouette",
    "summarise_moa_runs",
    "table_title",
    "train_mlp_probe",
]
