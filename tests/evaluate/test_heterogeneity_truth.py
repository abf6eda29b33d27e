from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from celldino_utils.evaluate.heterogeneity import score_against_truth, typical_examples


def _cells() -> pd.DataFrame:
    """Three proteins: a tight cluster (none), two sub-populations (spatial), a spread along one axis (intensity)."""
    rng = np.random.default_rng(0)
    base = np.array([1.0, 0.2, 0.1, 0.0])
    tight = base + rng.normal(0, 0.01, (8, 4))
    split = np.vstack(
        [base + rng.normal(0, 0.01, (4, 4)), np.array([0.1, 1.0, 0.0, 0.2]) + rng.normal(0, 0.01, (4, 4))]
    )
    spread = base + np.outer(np.linspace(-1, 1, 8), [0.0, 0.0, 1.0, 0.5])
    features = np.vstack([tight, split, spread])
    return pd.DataFrame(
        {
            "Metadata_antibody": ["P1"] * 8 + ["P2"] * 8 + ["P3"] * 8,
            "Metadata_heterogeneity": ["none"] * 8 + ["spatial"] * 8 + ["intensity"] * 8,
            **{f"emb_{i}": features[:, i] for i in range(4)},
        }
    )


def test_scores_order_the_kinds_as_the_truth_says() -> None:
    scores, summary = score_against_truth(_cells(), truth_col="Metadata_heterogeneity")
    by_kind = summary.set_index("Metadata_heterogeneity")["mean"]
    assert by_kind["none"] < by_kind["spatial"] and by_kind["none"] < by_kind["intensity"]
    assert list(summary["n_proteins"]) == [1, 1, 1]
    assert typical_examples(scores, truth_col="Metadata_heterogeneity", min_cells=6) == {
        "intensity": "P3",
        "none": "P1",
        "spatial": "P2",
    }


def test_truth_must_be_constant_per_protein() -> None:
    cells = _cells()
    cells.loc[0, "Metadata_heterogeneity"] = "spatial"
    with pytest.raises(ValueError, match=r"varies within protein\(s\) \['P1'\]"):
        score_against_truth(cells, truth_col="Metadata_heterogeneity")
    scores, _ = score_against_truth(_cells(), truth_col="Metadata_heterogeneity")
    with pytest.raises(ValueError, match="no protein has at least 9 cells"):
        typical_examples(scores, truth_col="Metadata_heterogeneity", min_cells=9)
