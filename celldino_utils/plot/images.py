"""Pictures of fields: HPA composites in the website's colours and Cell Painting channel strips."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from celldino_utils.io.channels import ChannelLayout
from celldino_utils.io.classes import CLASS_LISTS
from celldino_utils.io.datasets import FieldDataset

# Colour of each HPA channel in a composite, as on the Human Protein Atlas website.
HPA_COLOURS: dict[str, tuple[float, float, float]] = {
    "microtubules": (1.0, 0.0, 0.0),
    "protein": (0.0, 1.0, 0.0),
    "nucleus": (0.0, 0.0, 1.0),
    "er": (1.0, 1.0, 0.0),
}


def autoscale(image: np.ndarray, *, low: float = 0.5, high: float = 99.8) -> np.ndarray:
    """Stretch each channel of ``(C, H, W)`` between two percentiles to [0, 1] for display."""
    lo = np.percentile(image, low, axis=(1, 2), keepdims=True)
    hi = np.percentile(image, high, axis=(1, 2), keepdims=True)
    return np.clip((image - lo) / np.maximum(hi - lo, 1e-6), 0.0, 1.0)


def composite(
    image: np.ndarray, *, layout: ChannelLayout, colours: dict[str, tuple[float, float, float]] | None = None
) -> np.ndarray:
    """Blend a ``(C, H, W)`` field into an ``(H, W, 3)`` RGB picture, one colour per channel."""
    colours = colours or HPA_COLOURS
    if image.shape[0] != layout.n_channels:
        raise ValueError(
            f"composite: image has {image.shape[0]} channels, the {layout.format} layout {layout.n_channels}"
        )
    scaled = autoscale(image)
    rgb = np.zeros(image.shape[1:] + (3,), dtype=np.float32)
    for plane, name in zip(scaled, layout.channels, strict=True):
        rgb += plane[..., None] * np.asarray(colours[name], dtype=np.float32)
    return np.clip(rgb, 0.0, 1.0)


def _first_label(target: str, class_list: str) -> str:
    return CLASS_LISTS[class_list][int(str(target).split()[0])]


def plot_hpa_examples(fields: FieldDataset, *, group_by: str, n_per_group: int = 3, seed: int = 0) -> Figure:
    """A grid of composites: one column per group (``"class"`` = first label, or a metadata column), protein below.

    Single-label fields are preferred for ``"class"`` so that each column shows one pattern.
    """
    meta = fields.metadata
    if group_by == "class":
        single = meta["Metadata_Target"].str.split().str.len() == 1
        meta = meta[single] if single.any() else meta
        groups = meta.apply(lambda r: _first_label(r["Metadata_Target"], r["Metadata_class_list"]), axis=1)
    elif group_by in meta.columns:
        groups = meta[group_by].astype(str)
    else:
        raise ValueError(f"group_by must be 'class' or a metadata column; {group_by!r} is neither")
    names = sorted(groups.unique())
    figure, axes = plt.subplots(
        2 * n_per_group, len(names), figsize=(1.6 * len(names), 3.2 * n_per_group), squeeze=False
    )
    for col, name in enumerate(names):
        members = groups[groups == name].index.to_numpy()
        picks = np.random.default_rng(seed).choice(members, size=min(n_per_group, len(members)), replace=False)
        for row in range(n_per_group):
            top, bottom = axes[2 * row, col], axes[2 * row + 1, col]
            if row < len(picks):
                image = fields[int(picks[row])].numpy()
                top.imshow(composite(image, layout=fields.layout))
                bottom.imshow(autoscale(image)[fields.layout.protein_index], cmap="gray")
            top.set_axis_off()
            bottom.set_axis_off()
        axes[0, col].set_title(name, fontsize=8)
    figure.tight_layout()
    return figure


def plot_cellpainting_sites(fields: FieldDataset, rows: pd.Index | list[int], *, label_col: str) -> Figure:
    """A grid with one row per selected site and one column per channel, rows labelled by ``label_col``."""
    rows = list(rows)
    layout = fields.layout
    figure, axes = plt.subplots(
        len(rows), layout.n_channels, figsize=(2.0 * layout.n_channels, 2.0 * len(rows)), squeeze=False
    )
    for r, i in enumerate(rows):
        for c, plane in enumerate(autoscale(fields[int(i)].numpy())):
            axes[r, c].imshow(plane, cmap="gray")
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(layout.channels[c], fontsize=9)
        axes[r, 0].set_ylabel(str(fields.metadata.loc[int(i), label_col]), fontsize=7)
    figure.tight_layout()
    return figure


def plot_photographs(fields: FieldDataset, rows: pd.Index | list[int], *, n_cols: int = 6) -> Figure:
    """RGB images of ``fields`` (the ``photographs`` format) at positions ``rows``, titled by file name."""
    rows = list(rows)
    n_rows = -(-len(rows) // n_cols)
    figure, axes = plt.subplots(n_rows, n_cols, figsize=(1.8 * n_cols, 1.9 * n_rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, rows, strict=False):
        ax.imshow(fields[int(i)].permute(1, 2, 0).numpy())
        ax.set_title(str(fields.metadata.loc[int(i), "Metadata_file"]), fontsize=6)
    figure.tight_layout()
    return figure


def plot_crop_channels(
    crops: np.ndarray, *, row_labels: list[str], channels: tuple[str, ...], value_range: tuple[float, float] = (-2, 4)
) -> Figure:
    """One row per group, one column per crop and channel: self-normalised crops ``(G, N, C, S, S)`` in gray.

    All panels share ``value_range`` (in standard deviations of each crop's channel), so what a model sees after
    self-normalisation, and not each panel's own contrast, is what differs between rows.
    """
    n_groups, n_crops, n_channels = crops.shape[:3]
    figure, axes = plt.subplots(
        n_groups, n_crops * n_channels, figsize=(1.1 * n_crops * n_channels, 1.2 * n_groups), squeeze=False
    )
    for g in range(n_groups):
        for k in range(n_crops):
            for c in range(n_channels):
                ax = axes[g, k * n_channels + c]
                ax.imshow(crops[g, k, c], cmap="gray", vmin=value_range[0], vmax=value_range[1])
                ax.set_xticks([])
                ax.set_yticks([])
                if g == 0:
                    ax.set_title(f"{channels[c]}" if n_crops == 1 else f"{channels[c]} ({k + 1})", fontsize=7)
        axes[g, 0].set_ylabel(row_labels[g], fontsize=6, rotation=0, ha="right", va="center")
    figure.tight_layout()
    return figure
