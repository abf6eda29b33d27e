"""Single-cell heterogeneity: similarity matrix, per-protein score and outlier cells on toy embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from celldino_utils.evaluate.heterogeneity import (
    cell_similarity,
    heterogeneity_score,
    mean_similarity_to_others,
    outlier_cells,
)
from celldino_utils.io.profiles import to_profiles

D = 16


def _toy_proteins(n: int = 30, seed: int = 0) -> pd.DataFrame:
    """Cells of three proteins around one base direction: tight, two sub-clusters, and a gradient."""
    rng = np.random.default_rng(seed)
    base, split, axis = rng.normal(size=(3, D))
    noise = 0.05 * rng.normal(size=(3, n, D))
    none = base + noise[0]
    spatial = base + 0.6 * np.where(np.arange(n) < n // 2, 1.0, -1.0)[:, None] * split + noise[1]
    intensity = base + np.linspace(-1.0, 1.0, n)[:, None] * 0.6 * axis + noise[2]
    names = np.repeat(["none", "spatial", "intensity"], n)
    return to_profiles(pd.DataFrame({"antibody": names}), np.vstack([none, spatial, intensity]))


def test_cell_similarity_is_the_cosine_matrix() -> None:
    cells = to_profiles(pd.DataFrame({"id": [1, 2, 3]}), np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]]))
    expected = np.array([[1.0, 2**-0.5, 0.0], [2**-0.5, 1.0, -(2**-0.5)], [0.0, -(2**-0.5), 1.0]])
    np.testing.assert_allclose(cell_similarity(cells), expected, atol=1e-12)


def test_score_orders_none_below_spatial_and_intensity() -> None:
    scores = heterogeneity_score(_toy_proteins()).set_index("Metadata_antibody")
    assert list(scores.columns) == ["n_cells", "mean_similarity", "similarity_spread", "heterogeneity"]
    assert (scores["n_cells"] == 30).all()
    assert scores.loc["none", "heterogeneity"] < scores.loc["spatial", "heterogeneity"]
    assert scores.loc["none", "heterogeneity"] < scores.loc["intensity", "heterogeneity"]
    assert scores.loc["none", "similarity_spread"] < scores.loc["spatial", "similarity_spread"]
    np.testing.assert_allclose(scores["heterogeneity"], 1 - scores["mean_similarity"])


def test_score_equals_the_unit_vector_variance() -> None:
    cells = _toy_proteins().query("Metadata_antibody == 'spatial'")
    values = cells.filter(like="emb_").to_numpy()
    unit = values / np.linalg.norm(values, axis=1, keepdims=True)
    n = len(unit)
    expected = n / (n - 1) * (1 - np.sum(unit.mean(axis=0) ** 2))
    assert heterogeneity_score(cells)["heterogeneity"].iloc[0] == pytest.approx(expected)


def test_outliers_are_the_cells_that_differ() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=D) + 0.05 * rng.normal(size=(20, D))
    values[[4, 13]] = rng.normal(size=(2, D))  # two cells with another localisation
    cells = to_profiles(pd.DataFrame({"cell": np.arange(20)}), values)
    assert set(outlier_cells(cells, n=2).tolist()) == {4, 13}
    assert mean_similarity_to_others(cells).argmin() in (4, 13)


def test_bad_input_raises() -> None:
    cells = _toy_proteins(n=4)
    with pytest.raises(ValueError, match="Metadata_gene"):
        heterogeneity_score(cells, group_col="Metadata_gene")
    with pytest.raises(ValueError, match="fewer than 2 cells"):
        heterogeneity_score(cells.iloc[:9])
    with pytest.raises(ValueError, match="n=12"):
        outlier_cells(cells, n=12)
    with pytest.raises(ValueError, match="n must be"):
        outlier_cells(cells, n=0)
    zero = cells.copy()
    zero.loc[0, zero.filter(like="emb_").columns] = 0.0
    with pytest.raises(ValueError, match="all-zero"):
        cell_similarity(zero)
