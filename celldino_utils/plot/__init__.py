"""Figures: field composites and channel strips."""

from celldino_utils.plot.images import autoscale, composite, plot_cellpainting_sites, plot_channels, plot_hpa_examples
from celldino_utils.plot.save import save_figure

__all__ = ["autoscale", "composite", "plot_cellpainting_sites", "plot_channels", "plot_hpa_examples", "save_figure"]
