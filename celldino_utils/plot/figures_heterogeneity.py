"""Supplement Figure D: single-cell heterogeneity of protein localisation.

One row per protein: the cell-by-cell cosine similarity matrix of its single-cell embeddings
(ordered by hierarchical clustering), then a strip of cell crops as colour composites (HPA colours)
over the protein channel alone (green). The cells least similar to the others are marked with
arrows and magenta frames, and the row title gives the protein's heterogeneity score.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

from celldino_utils.evaluate.heterogeneity import cell_similarity, mean_similarity_to_others, outlier_cells
from celldino_utils.io.channels import ChannelLayout
from celldino_utils.plot.images import autoscale, composite

MARK_COLOUR = "#e7298a"


def cluster_order(similarity: np.ndarray) -> np.ndarray:
    """Leaf order of average-linkage clustering on ``1 - similarity`` (optimal leaf ordering).

    Parameters
    ----------
    similarity
        ``(N, N)`` symmetric similarity matrix, ``N >= 2``.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` permutation of ``range(N)`` that puts similar cells next to each other.
    """
    distance = np.clip(1.0 - similarity, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform((distance + distance.T) / 2.0, checks=False), method="average", optimal_ordering=True)
    return leaves_list(tree)


def _score_of(scores: pd.DataFrame, protein: str, *, group_col: str) -> float:
    missing = [c for c in (group_col, "heterogeneity") if c not in scores.columns]
    if missing:
        raise ValueError(f"figure_d: scores lacks column(s) {missing} (pass heterogeneity_score output)")
    rows = scores.loc[scores[group_col].astype(str) == str(protein), "heterogeneity"]
    if len(rows) != 1:
        raise ValueError(f"figure_d: scores has {len(rows)} rows with {group_col} == {protein!r}, expected 1")
    return float(rows.iloc[0])


def _check_inputs(
    cells_by_protein: dict[str, pd.DataFrame], crops_by_protein: dict[str, np.ndarray], layout: ChannelLayout
) -> None:
    if not cells_by_protein:
        raise ValueError("figure_d: cells_by_protein is empty")
    if set(cells_by_protein) != set(crops_by_protein):
        raise ValueError(
            f"figure_d: proteins differ between cells_by_protein {sorted(cells_by_protein)} "
            f"and crops_by_protein {sorted(crops_by_protein)}"
        )
    if layout.protein_index is None:
        raise ValueError(f"figure_d: the {layout.format} layout has no protein channel")
    for protein, cells in cells_by_protein.items():
        crops = crops_by_protein[protein]
        if crops.ndim != 4 or crops.shape[0] != len(cells) or crops.shape[1] != layout.n_channels:
            raise ValueError(
                f"figure_d: crops of {protein!r} have shape {crops.shape}; expected "
                f"({len(cells)}, {layout.n_channels}, h, w) to match its {len(cells)} cells"
            )


def _pick_cells(cells: pd.DataFrame, *, n_crops: int, n_outliers: int, order: np.ndarray) -> tuple[list[int], set]:
    """Positions of the cells to show (the most typical ones and the outliers), in ``order``."""
    outliers = outlier_cells(cells, n=n_outliers)
    typical = [int(i) for i in np.argsort(-mean_similarity_to_others(cells), kind="stable") if i not in outliers]
    chosen = set(typical[: n_crops - n_outliers]) | {int(i) for i in outliers}
    return [int(i) for i in order if int(i) in chosen], {int(i) for i in outliers}


def _arrow(ax: Axes, size: tuple[int, int]) -> None:
    """An arrow from the upper right corner of a crop towards its centre (the cell)."""
    h, w = size
    style = {"arrowstyle": "-|>", "color": MARK_COLOUR, "lw": 1.6, "mutation_scale": 9}
    ax.annotate("", xy=(0.62 * w, 0.38 * h), xytext=(0.95 * w, 0.05 * h), arrowprops=style)


def _crop_row(axes: list[Axes], crops: np.ndarray, *, layout: ChannelLayout, marked: list[bool], green: bool) -> None:
    """Draw ``(K, C, h, w)`` crops scaled together (intensity differences stay visible)."""
    strip = np.concatenate(list(crops), axis=2)  # (C, h, K * w): one percentile stretch for all
    if green:
        rgb = np.zeros(strip.shape[1:] + (3,), dtype=np.float32)
        rgb[..., 1] = autoscale(strip)[layout.protein_index]
    else:
        rgb = composite(strip, layout=layout)
    width = crops.shape[3]
    for k, ax in enumerate(axes):
        ax.imshow(rgb[:, k * width : (k + 1) * width])
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color(MARK_COLOUR if marked[k] else "0.6")
            spine.set_linewidth(2.0 if marked[k] else 0.5)
        if marked[k]:
            _arrow(ax, crops.shape[2:])


def _matrix(ax: Axes, similarity: np.ndarray, *, outliers: list[int], vmin: float) -> plt.cm.ScalarMappable:
    """Draw an ordered similarity matrix with arrows at the rows of ``outliers`` (positions in the order)."""
    image = ax.imshow(similarity, cmap="viridis", vmin=vmin, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    n = len(similarity)
    style = {"arrowstyle": "-|>", "color": MARK_COLOUR, "lw": 1.4, "mutation_scale": 8}
    for row in outliers:
        ax.annotate("", xy=(-0.5, row), xytext=(-0.5 - 0.12 * n, row), arrowprops=style, annotation_clip=False)
    ax.set_xlabel(f"{n} cells (clustered order)", fontsize=7)
    ax.set_ylabel("cells", fontsize=7, labelpad=12)  # leaves room for the arrows
    return image


def figure_d(
    cells_by_protein: dict[str, pd.DataFrame],
    crops_by_protein: dict[str, np.ndarray],
    *,
    layout: ChannelLayout,
    scores: pd.DataFrame,
    group_col: str = "Metadata_antibody",
    n_crops: int = 6,
    n_outliers: int = 2,
    title: str = "Single-cell heterogeneity of protein localisation",
) -> Figure:
    """Supplement Figure D: per protein, a similarity matrix beside composite and protein-channel crops.

    Parameters
    ----------
    cells_by_protein
        ``{protein: single-cell profiles}`` of one cell line, each with at least ``n_crops`` cells;
        rows are drawn in this order.
    crops_by_protein
        ``{protein: (N, C, h, w) crops}`` of the same cells in the same order, channels in ``layout``.
    layout
        Channel layout of the crops (needs a protein channel; e.g. ``HPA_KAGGLE``).
    scores
        :func:`~celldino_utils.evaluate.heterogeneity.heterogeneity_score` output; one row per
        protein, looked up by ``group_col``.
    n_crops
        Cells shown per protein: the ``n_outliers`` least similar to the others (marked) and the
        most typical ones, in the clustered order of the matrix.
    n_outliers
        Cells marked with arrows and frames, ``1 <= n_outliers < n_crops``.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Per protein one matrix and ``2 * n_crops`` crop panels, plus one shared colour bar.
    """
    if not 1 <= n_outliers < n_crops:
        raise ValueError(f"figure_d: need 1 <= n_outliers < n_crops, got n_outliers={n_outliers}, n_crops={n_crops}")
    _check_inputs(cells_by_protein, crops_by_protein, layout)
    small = {p: len(c) for p, c in cells_by_protein.items() if len(c) < n_crops}
    if small:
        raise ValueError(f"figure_d: proteins with fewer than n_crops={n_crops} cells: {small}")
    values = {p: _score_of(scores, p, group_col=group_col) for p in cells_by_protein}
    matrices = {p: cell_similarity(c) for p, c in cells_by_protein.items()}
    vmin = float(np.floor(min(m.min() for m in matrices.values()) * 20.0) / 20.0)
    n_rows = len(cells_by_protein)
    figure = plt.figure(figsize=(2.8 + 1.05 * n_crops, 2.6 * n_rows), layout="constrained")
    grid = figure.add_gridspec(2 * n_rows, 1 + n_crops, width_ratios=[2.0] + [1.0] * n_crops)
    matrix_axes = []
    for r, (protein, cells) in enumerate(cells_by_protein.items()):
        order = cluster_order(matrices[protein])
        shown, outliers = _pick_cells(cells, n_crops=n_crops, n_outliers=n_outliers, order=order)
        ax = figure.add_subplot(grid[2 * r : 2 * r + 2, 0])
        rank = {int(c): k for k, c in enumerate(order)}
        image = _matrix(ax, matrices[protein][np.ix_(order, order)], outliers=[rank[i] for i in outliers], vmin=vmin)
        ax.set_title(f"{protein}\nheterogeneity {values[protein]:.3f}", fontsize=9)
        matrix_axes.append(ax)
        crops = crops_by_protein[protein][shown]
        marked = [i in outliers for i in shown]
        for line, green in ((0, False), (1, True)):
            axes = [figure.add_subplot(grid[2 * r + line, 1 + k]) for k in range(len(shown))]
            _crop_row(axes, crops, layout=layout, marked=marked, green=green)
            axes[0].set_ylabel("protein" if green else "composite", fontsize=8)
    figure.colorbar(image, ax=matrix_axes, location="bottom", shrink=0.8, label="cosine similarity")
    figure.suptitle(title, fontsize=11)
    return figure
