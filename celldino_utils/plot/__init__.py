"""Figures: field composites and channel strips, UMAPs (supplement Figures A-C) and heterogeneity (Figure D).

Layer 3, a stage (with ``embed``, ``correct``, ``evaluate``): imports the layers below and ``evaluate``.
"""

from celldino_utils.plot.curve import plot_compute_curve
from celldino_utils.plot.figures_heterogeneity import cluster_order, figure_d
from celldino_utils.plot.figures_umap import (
    FIGURE_A_CLASSES,
    figure_a,
    figure_b,
    figure_c,
    figure_c_silhouettes,
    localisation_labels,
    panel_silhouette,
    plot_umap,
)
from celldino_utils.plot.images import (
    autoscale,
    composite,
    plot_cellpainting_sites,
    plot_crop_channels,
    plot_hpa_examples,
    plot_photographs,
)
from celldino_utils.plot.save import save_figure
from celldino_utils.plot.training import plot_training_logs
from celldino_utils.plot.umap import umap_embedding

__all__ = [
    "FIGURE_A_CLASSES",
    "autoscale",
    "cluster_order",
    "composite",
    "figure_a",
    "figure_b",
    "figure_c",
    "figure_c_silhouettes",
    "figure_d",
    "localisation_labels",
    "panel_silhouette",
    "plot_cellpainting_sites",
    "plot_compute_curve",
    "plot_crop_channels",
    "plot_hpa_examples",
    "plot_photographs",
    "plot_training_logs",
    "plot_umap",
    "save_figure",
    "umap_embedding",
]
