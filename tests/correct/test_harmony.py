"""Harmony and PCA on a tiny two-batch table: a batch offset on top of a label signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from celldino_utils.correct import harmony, pca
from celldino_utils.evaluate import knn_score, silhouette
from celldino_utils.io.profiles import to_profiles


def _two_batches(n_per_cell: int = 30, n_features: int = 24, seed: int = 0) -> pd.DataFrame:
    """4 labels x 2 cell lines; the cell line adds an offset comparable to the label signal."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), 2 * n_per_cell)
    lines = np.tile(np.repeat(np.arange(2), n_per_cell), 4)
    label_signal = rng.normal(size=(4, n_features))
    batch_offset = rng.normal(size=(2, n_features)) * 0.7
    values = rng.normal(size=(len(labels), n_features)) + label_signal[labels] + batch_offset[lines]
    meta = pd.DataFrame({"cell_line": [f"line{i}" for i in lines], "Target": [str(i) for i in labels]})
    profiles = to_profiles(meta, values)
    profiles.index = pd.RangeIndex(100, 100 + len(profiles))  # a non-default index must survive
    return profiles


def test_harmony_removes_the_batch_and_keeps_the_label() -> None:
    raw = _two_batches()
    corrected = harmony(raw, batch_col="Metadata_cell_line", n_components=10)
    batch_before = silhouette(raw, label_col="Metadata_cell_line")
    batch_after = silhouette(corrected, label_col="Metadata_cell_line")
    assert batch_after < batch_before - 0.15
    # neighbours from the other cell line only: the label must still be recognised across lines
    knn_before = knn_score(raw, label_col="Metadata_Target", group_col="Metadata_cell_line")
    knn_after = knn_score(corrected, label_col="Metadata_Target", group_col="Metadata_cell_line")
    assert knn_after >= knn_before


def test_harmony_keeps_rows_metadata_and_names_features() -> None:
    raw = _two_batches()
    corrected = harmony(raw, batch_col="Metadata_cell_line", n_components=500)
    meta = ["Metadata_cell_line", "Metadata_Target"]
    pd.testing.assert_frame_equal(corrected[meta], raw[meta])
    assert list(corrected.columns[2:]) == [f"harmony_{i:04d}" for i in range(24)]  # clipped to D = 24
    again = harmony(raw, batch_col="Metadata_cell_line", n_components=500)
    np.testing.assert_allclose(corrected.iloc[:, 2:].to_numpy(), again.iloc[:, 2:].to_numpy())


def test_harmony_names_a_missing_batch_column() -> None:
    with pytest.raises(ValueError, match=r"Metadata_plate.*available Metadata_ columns.*Metadata_cell_line"):
        harmony(_two_batches(), batch_col="Metadata_plate")


def test_harmony_needs_two_batches() -> None:
    one = _two_batches().assign(Metadata_cell_line="line0")
    with pytest.raises(ValueError, match=r"Metadata_cell_line.*at least 2 distinct values, found 1"):
        harmony(one, batch_col="Metadata_cell_line")


def test_harmony_refuses_nan_features() -> None:
    raw = _two_batches()
    raw.loc[raw.index[:3], "emb_0005"] = np.nan
    with pytest.raises(ValueError, match=r"3 row\(s\) hold NaN.*emb_0005"):
        harmony(raw)


def test_pca_clips_and_names_components() -> None:
    raw = _two_batches(n_per_cell=2)  # 16 rows, 24 features
    reduced = pca(raw, n_components=50)
    assert list(reduced.columns[2:]) == [f"pca_{i:04d}" for i in range(16)]
    assert reduced.index.equals(raw.index)
    np.testing.assert_allclose(reduced.iloc[:, 2:].mean().to_numpy(), 0.0, atol=1e-9)
    assert sum(reduced.attrs["explained_variance_ratio"]) == pytest.approx(1.0)
