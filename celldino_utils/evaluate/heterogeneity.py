"""Single-cell heterogeneity of a protein's localisation from cell embeddings (supplement Figure D).

For the cells stained for one protein in one cell line, the cosine similarity of every pair of
single-cell embeddings forms the matrix shown in Figure D. A protein without heterogeneity gives a
uniformly high matrix; spatial heterogeneity (sub-populations with different patterns) gives
blocks, and intensity heterogeneity (a continuum of expression levels) a gradient. Both lower the
average similarity, which is the score used here, and the cells least similar to the others are
the ones the figure's arrows point at.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from celldino_utils.io.profiles import feature_matrix, require_metadata


def _unit_rows(values: np.ndarray, *, source: str) -> np.ndarray:
    """Rows of an ``(N, D)`` matrix scaled to unit length; raises if a row is all zeros."""
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    zero = np.flatnonzero(norms[:, 0] == 0)
    if len(zero):
        raise ValueError(f"{source}: {len(zero)} row(s) have all-zero features (no direction), positions {zero[:5]}")
    return values / norms


def cell_similarity(cells: pd.DataFrame) -> np.ndarray:
    """Cosine similarity of every pair of cells, from the feature columns of a profile table.

    Parameters
    ----------
    cells
        ``N`` single-cell profiles (``Metadata_*`` then ``D`` features); no row may be all zeros.

    Returns
    -------
    numpy.ndarray
        ``(N, N)`` symmetric matrix in ``[-1, 1]``, ones on the diagonal, rows in table order.
    """
    source = "cell_similarity(cells)"
    unit = _unit_rows(feature_matrix(cells, source=source), source=source)
    similarity = np.clip(unit @ unit.T, -1.0, 1.0)
    np.fill_diagonal(similarity, 1.0)
    return similarity


def _off_diagonal(similarity: np.ndarray) -> np.ndarray:
    return similarity[~np.eye(len(similarity), dtype=bool)]


def heterogeneity_score(cells: pd.DataFrame, *, group_col: str = "Metadata_antibody") -> pd.DataFrame:
    """One heterogeneity number per protein: one minus the mean cosine similarity between its cells.

    Parameters
    ----------
    cells
        Single-cell profiles of one cell line, with ``group_col``; every group needs at least 2 cells.
    group_col
        Column naming the protein (antibody or gene) of each cell.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by ``group_col``: ``group_col``, ``n_cells``, ``mean_similarity``
        (mean off-diagonal cosine similarity), ``similarity_spread`` (its standard deviation) and
        ``heterogeneity`` (``1 - mean_similarity``; higher is more heterogeneous).

    Notes
    -----
    Why the mean off-diagonal similarity: for unit-length embeddings ``u_i`` with mean ``m``,
    ``1 - mean_{i != j} u_i . u_j = N / (N - 1) * (1 - |m|^2)``, the unbiased total variance of
    the normalised embeddings. It is therefore independent of the number of cells, and it rises with
    any spread of the cells, whether they form two sub-populations (spatial heterogeneity) or vary
    along one direction (intensity heterogeneity), while a tight cluster (no heterogeneity) scores
    near 0. The spread of the similarities is reported beside it because it is what makes blocks
    visible in the Figure D matrices. Cosine similarities of raw embeddings include a component
    shared by all cells, so compare scores between proteins of one embedding, not across models.
    """
    source = "heterogeneity_score(cells)"
    require_metadata(cells, [group_col], source=source)
    sizes = cells.groupby(group_col, sort=True).size()
    small = sizes[sizes < 2]
    if len(small):
        raise ValueError(f"{source}: group(s) of {group_col!r} with fewer than 2 cells: {list(small.index)[:5]}")
    rows = []
    for name, group in cells.groupby(group_col, sort=True):
        pairs = _off_diagonal(cell_similarity(group))
        rows.append(
            {
                group_col: name,
                "n_cells": len(group),
                "mean_similarity": float(pairs.mean()),
                "similarity_spread": float(pairs.std()),
                "heterogeneity": float(1.0 - pairs.mean()),
            }
        )
    return pd.DataFrame(rows)


def mean_similarity_to_others(cells: pd.DataFrame) -> np.ndarray:
    """Mean cosine similarity of each cell to the other cells, shape ``(N,)`` (needs ``N >= 2``)."""
    if len(cells) < 2:
        raise ValueError(f"mean_similarity_to_others(cells): need at least 2 cells, got {len(cells)}")
    similarity = cell_similarity(cells)
    return (similarity.sum(axis=1) - 1.0) / (len(cells) - 1)


def outlier_cells(cells: pd.DataFrame, *, n: int = 2) -> np.ndarray:
    """Positions of the ``n`` cells least similar, on average, to the other cells of the table.

    Parameters
    ----------
    cells
        Single-cell profiles of one protein (more than ``n`` rows).
    n
        Number of cells to return, at least 1.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` integer row positions (for ``cells.iloc`` and for crop arrays in the same order),
        least similar first; ties keep table order.
    """
    source = "outlier_cells(cells)"
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{source}: n must be an integer >= 1, got {n!r}")
    if len(cells) <= n:
        raise ValueError(f"{source}: {len(cells)} cells; need more than n={n} to pick outliers among them")
    return np.argsort(mean_similarity_to_others(cells), kind="stable")[:n]


def score_against_truth(
    cells: pd.DataFrame, *, truth_col: str, group_col: str = "Metadata_antibody", min_cells: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Heterogeneity scores per protein beside a known heterogeneity type, and a summary per type.

    ``truth_col`` must be constant within each protein (the synthetic data know it per protein).
    Proteins with fewer than ``min_cells`` cells cannot be scored; they are left out of both tables
    and listed in ``summary.attrs["too_few_cells"]``.

    Returns
    -------
    (scores, summary)
        :func:`heterogeneity_score` plus ``truth_col``; and one row per type with ``n_proteins``,
        ``mean``, ``std``, ``min`` and ``max`` of the score.
    """
    require_metadata(cells, [group_col, truth_col], source="score_against_truth(cells)")
    kinds = cells.groupby(group_col)[truth_col].nunique()
    mixed = kinds[kinds > 1]
    if len(mixed):
        raise ValueError(f"{truth_col!r} varies within protein(s) {list(mixed.index)[:5]}")
    sizes = cells.groupby(group_col).size()
    scored = cells[cells[group_col].map(sizes) >= max(min_cells, 2)]
    if scored.empty:
        raise ValueError(f"no protein has at least {max(min_cells, 2)} cells (largest: {int(sizes.max())})")
    truth = scored.groupby(group_col)[truth_col].first()
    scores = heterogeneity_score(scored, group_col=group_col)
    scores[truth_col] = scores[group_col].map(truth)
    summary = scores.groupby(truth_col)["heterogeneity"].agg(["count", "mean", "std", "min", "max"])
    summary = summary.rename(columns={"count": "n_proteins"}).reset_index()
    summary.attrs["too_few_cells"] = sorted(sizes[sizes < max(min_cells, 2)].index)
    return scores, summary


def typical_examples(
    scores: pd.DataFrame, *, truth_col: str, min_cells: int, group_col: str = "Metadata_antibody"
) -> dict[str, str]:
    """One protein per heterogeneity type with at least ``min_cells`` cells: the one nearest its type's median score."""
    examples = {}
    for kind, group in scores[scores["n_cells"] >= min_cells].groupby(truth_col, sort=False):
        distance = (group["heterogeneity"] - group["heterogeneity"].median()).abs()
        examples[str(kind)] = str(group.loc[distance.idxmin(), group_col])
    if not examples:
        raise ValueError(f"no protein has at least {min_cells} cells")
    return examples
