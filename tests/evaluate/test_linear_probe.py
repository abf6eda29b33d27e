"""Linear probe macro F1 on toy data, multiclass and multilabel."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from celldino_utils.evaluate.linear_probe import heldout_probe_f1, linear_probe_f1
from celldino_utils.io.profiles import to_profiles


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Small logistic fits run fastest on one BLAS thread, and much faster than on two when the CPU is shared."""
    with threadpool_limits(1):
        yield


def _blobs(n: int, *, seed: int, labels: list[str], spread: float = 0.3) -> pd.DataFrame:
    """One Gaussian blob per label; labels with spaces exercise the multiclass path."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(size=(len(labels), 6)) * 3
    which = rng.integers(0, len(labels), n)
    X = centres[which] + rng.normal(scale=spread, size=(n, 6))
    return to_profiles(pd.DataFrame({"cell_line": np.asarray(labels)[which]}), X)


def _multilabel(n: int, *, seed: int) -> pd.DataFrame:
    """Three classes; a class adds a fixed direction to the features; rows carry one or two classes."""
    rng = np.random.default_rng(seed)
    Y = np.zeros((n, 3), dtype=int)
    Y[np.arange(n), rng.integers(0, 3, n)] = 1
    Y[np.arange(n), rng.integers(0, 3, n)] = 1
    X = Y @ (np.eye(3, 5) * 4) + rng.normal(scale=0.3, size=(n, 5)) + 10
    labels = [" ".join(str(c) for c in np.flatnonzero(row)) for row in Y]
    return to_profiles(pd.DataFrame({"Target": labels}), X)


def test_multiclass_separable_and_equal_to_sklearn() -> None:
    lines = ["U-2 OS", "A-431", "HeLa"]
    train, test = _blobs(90, seed=0, labels=lines), _blobs(60, seed=1, labels=lines)
    assert linear_probe_f1(train, test, label_col="Metadata_cell_line", multilabel=False, seed=0) == 1.0
    noisy_train = _blobs(90, seed=0, labels=lines, spread=4.0)
    noisy_test = _blobs(60, seed=1, labels=lines, spread=4.0)
    scaler = StandardScaler().fit(noisy_train.filter(like="emb_"))
    model = LogisticRegression(max_iter=2000, random_state=0).fit(
        scaler.transform(noisy_train.filter(like="emb_")), noisy_train["Metadata_cell_line"]
    )
    expected = f1_score(
        noisy_test["Metadata_cell_line"],
        model.predict(scaler.transform(noisy_test.filter(like="emb_"))),
        average="macro",
    )
    got = linear_probe_f1(noisy_train, noisy_test, label_col="Metadata_cell_line", multilabel=False, seed=0)
    assert got == pytest.approx(expected) and got < 1.0


def test_multilabel_separable() -> None:
    train, test = _multilabel(150, seed=0), _multilabel(80, seed=1)
    assert linear_probe_f1(train, test, label_col="Metadata_Target", multilabel=True, seed=0) == pytest.approx(1.0)


def test_multilabel_threshold_and_zero_division() -> None:
    train = _multilabel(150, seed=0)
    test = _multilabel(40, seed=1)
    test = test[~test["Metadata_Target"].str.contains("2")]  # class 2 absent from test, never predicted
    score = linear_probe_f1(train, test, label_col="Metadata_Target", multilabel=True, seed=0)
    assert score == pytest.approx(2 / 3)  # classes 0 and 1 perfect, class 2 scores 0 (zero_division=0)


def test_errors() -> None:
    train = _blobs(30, seed=0, labels=["a", "b"])
    test = _blobs(30, seed=1, labels=["a", "c"])
    with pytest.raises(ValueError, match=r"test class\(es\) \['c'\]"):
        linear_probe_f1(train, test, label_col="Metadata_cell_line", multilabel=False, seed=0)
    with pytest.raises(ValueError, match="Metadata_line"):
        linear_probe_f1(train, train, label_col="Metadata_line", multilabel=False, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        linear_probe_f1(train.assign(emb_0000=np.nan), train, label_col="Metadata_cell_line", multilabel=False, seed=0)
    ml = _multilabel(20, seed=0)
    ml.loc[3, "Metadata_Target"] = ""
    with pytest.raises(ValueError, match="hold no label"):
        linear_probe_f1(ml, ml, label_col="Metadata_Target", multilabel=True, seed=0)


def test_heldout_probe_scores_each_group_fitted_on_the_others() -> None:
    profiles = _blobs(240, seed=0, labels=["a b", "c", "d"])
    profiles.insert(0, "Metadata_Plate", np.repeat(["P3", "P1", "P2"], 80))
    profiles.insert(1, "Metadata_dose", np.tile([0, 1], 120))
    scores = heldout_probe_f1(profiles, label_col="Metadata_cell_line", group_col="Metadata_Plate", seed=0)
    assert list(scores) == ["P1", "P2", "P3"] and min(scores.values()) > 0.95
    # each group's value is a probe fitted on the other groups' rows only
    held_out = profiles["Metadata_Plate"] == "P2"
    alone = linear_probe_f1(
        profiles[~held_out], profiles[held_out], label_col="Metadata_cell_line", multilabel=False, seed=0
    )
    assert scores["P2"] == alone
    parallel = heldout_probe_f1(profiles, label_col="Metadata_cell_line", group_col="Metadata_Plate", seed=0, n_jobs=2)
    assert parallel == scores
    # the query selects the rows before the groups are held out; noise features score near chance
    noise = profiles.assign(**{c: np.random.default_rng(1).normal(size=len(profiles)) for c in profiles if "emb" in c})
    queried = heldout_probe_f1(
        noise, label_col="Metadata_cell_line", group_col="Metadata_Plate", query="Metadata_dose == 1", seed=0
    )
    assert max(queried.values()) < 0.6
    with pytest.raises(ValueError, match="at least 2 values"):
        heldout_probe_f1(
            profiles, label_col="Metadata_cell_line", group_col="Metadata_Plate", query="Metadata_Plate == 'P1'"
        )
    with pytest.raises(ValueError, match="Metadata_Batch"):
        heldout_probe_f1(profiles, label_col="Metadata_cell_line", group_col="Metadata_Batch")
    # held_out: only those groups are scored, each by the same probe as when every group is held out
    some = heldout_probe_f1(
        profiles, label_col="Metadata_cell_line", group_col="Metadata_Plate", seed=0, held_out=["P3", "P1"]
    )
    assert some == {"P1": scores["P1"], "P3": scores["P3"]}
    with pytest.raises(ValueError, match=r"not there: \['P9'\]"):
        heldout_probe_f1(profiles, label_col="Metadata_cell_line", group_col="Metadata_Plate", held_out=["P1", "P9"])
