"""Evaluation of frozen features and of batch correction."""

from celldino_utils.evaluate.batch_metrics import batch_metric_table, knn_score, moa_map, replicate_map, silhouette

__all__ = ["batch_metric_table", "knn_score", "moa_map", "replicate_map", "silhouette"]
