"""SubCell MLP probe: FoV aggregation, macro AP, learning, determinism and errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import average_precision_score

from celldino_utils.evaluate.mlp_probe import (
    UniformMaskDropout,
    build_mlp_probe,
    evaluate_localisation_map,
    fov_logits,
    macro_average_precision,
    multi_hot,
    predict_logits,
    standardize_with,
    train_mlp_probe,
)
from celldino_utils.io.profiles import to_profiles

N_CLASSES = 5


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny MLPs run fastest on one thread, and much faster than on two when the CPU is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _toy(n: int, *, seed: int, noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Features = sum of the prototypes of a cell's one or two classes, plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(123).normal(size=(N_CLASSES, 16)) * 2
    Y = np.zeros((n, N_CLASSES), dtype=np.float32)
    Y[np.arange(n), rng.integers(0, N_CLASSES, n)] = 1
    Y[np.arange(n), rng.integers(0, N_CLASSES, n)] = 1
    X = Y @ prototypes + rng.normal(scale=noise, size=(n, 16))
    return X.astype(np.float32), Y


def _cells(n_antibodies: int = 40, fovs_per_antibody: int = 2, cells_per_fov: int = 4) -> pd.DataFrame:
    """Single-cell profiles: one label set per antibody, several FoVs of several cells each."""
    rng = np.random.default_rng(0)
    prototypes = rng.normal(size=(N_CLASSES, 12)) * 2
    rows, features = [], []
    for a in range(n_antibodies):
        labels = sorted({a % N_CLASSES, int(rng.integers(0, N_CLASSES))})
        for f in range(fovs_per_antibody):
            for _ in range(cells_per_fov):
                rows.append({"antibody": f"ab{a}", "Id": f"ab{a}_f{f}", "Target": " ".join(map(str, labels))})
                features.append(prototypes[labels].sum(axis=0) + rng.normal(scale=0.8, size=12))
    return to_profiles(pd.DataFrame(rows), np.asarray(features))


def test_architecture() -> None:
    model = build_mlp_probe(192, 19)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "UniformMaskDropout"] * 2 + ["Linear"]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, torch.nn.Linear)] == [
        (192, 512),
        (512, 256),
        (256, 19),
    ]
    assert all(m.p == 0.5 for m in model if isinstance(m, torch.nn.Dropout))
    out = model(torch.randn(3, 192))
    assert out.shape == (3, 19) and torch.isfinite(out).all()


def test_dropout_keeps_the_expected_activation_and_is_off_in_eval() -> None:
    dropout = UniformMaskDropout(0.5)
    x = torch.ones(200, 500)
    torch.manual_seed(0)
    y = dropout(x)
    assert set(y.unique().tolist()) == {0.0, 2.0} and abs(float((y == 0).float().mean()) - 0.5) < 0.01
    assert abs(float(y.mean()) - 1.0) < 0.02
    assert torch.equal(dropout.eval()(x), x)


def test_fov_logits_by_hand() -> None:
    logits = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0], [-1.0, 4.0], [0.0, 0.0]])
    ids, means = fov_logits(logits, ["b", "a", "b", "c", "a"])
    assert ids.tolist() == ["b", "a", "c"]
    np.testing.assert_allclose(means, [[3.0, 2.5], [1.5, 1.0], [-1.0, 4.0]])
    with pytest.raises(ValueError, match="FoV ids"):
        fov_logits(logits, ["a", "b"])


def test_macro_average_precision_against_sklearn_and_absent_classes() -> None:
    rng = np.random.default_rng(1)
    Y = (rng.random((40, 4)) < 0.3).astype(int)
    Y[:, 2] = 0  # no positive: left out, not counted as 0
    scores = rng.normal(size=(40, 4))
    expected = np.mean([average_precision_score(Y[:, c], scores[:, c]) for c in (0, 1, 3)])
    assert macro_average_precision(Y, scores) == pytest.approx(expected)
    perfect = np.array([[1, 0], [0, 1], [1, 0]])
    assert macro_average_precision(perfect, perfect * 2.0 - 1) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no class has a positive"):
        macro_average_precision(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="must be equal"):
        macro_average_precision(Y, scores[:, :3])


def test_multi_hot_and_bad_labels() -> None:
    got = multi_hot(pd.Series(["0 2", "1", "2 0 1"], name="Metadata_Target"), n_classes=3)
    np.testing.assert_array_equal(got, [[1, 0, 1], [0, 1, 0], [1, 1, 1]])
    for bad in ("", "3", "a b"):
        with pytest.raises(ValueError, match="Metadata_Target"):
            multi_hot(pd.Series(["0", bad], name="Metadata_Target"), n_classes=3)


def test_probe_learns_a_separable_problem_and_is_deterministic() -> None:
    train_X, train_Y = _toy(600, seed=0)
    val_X, val_Y = _toy(200, seed=1)
    test_X, test_Y = _toy(200, seed=2)
    options = {"seed": 7, "max_epochs": 12, "patience": 4, "batch_size": 64, "device": "cpu"}
    state = torch.random.get_rng_state()
    model, history = train_mlp_probe(train_X, train_Y, val_X, val_Y, **options)
    assert torch.equal(state, torch.random.get_rng_state())  # global generator untouched
    chance = test_Y.mean()
    score = macro_average_precision(test_Y, predict_logits(model, test_X))
    assert score > 0.9 and score > chance + 0.5  # chance AP = class prevalence (~0.36)
    assert list(history.columns) == ["epoch", "lr", "train_loss", "val_loss", "val_map", "best"]
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert history["best"].sum() >= 1 and not model.training
    again, history_again = train_mlp_probe(train_X, train_Y, val_X, val_Y, **options)
    pd.testing.assert_frame_equal(history, history_again)
    np.testing.assert_array_equal(predict_logits(model, test_X), predict_logits(again, test_X))
    other, _ = train_mlp_probe(train_X, train_Y, val_X, val_Y, **(options | {"seed": 8}))
    assert not np.array_equal(predict_logits(model, test_X), predict_logits(other, test_X))


def test_early_stopping_keeps_best_epoch() -> None:
    train_X, train_Y = _toy(200, seed=0, noise=3.0)
    val_X, val_Y = _toy(100, seed=1, noise=3.0)
    model, history = train_mlp_probe(
        train_X, train_Y, val_X, val_Y, seed=0, max_epochs=60, patience=2, batch_size=32, device="cpu"
    )
    assert len(history) < 60  # stopped early
    assert not history["best"].iloc[-2:].any() and history["best"].iloc[-3]
    best = history["val_map"].max()
    assert macro_average_precision(val_Y, predict_logits(model, val_X)) == pytest.approx(best)


def test_probe_errors() -> None:
    train_X, train_Y = _toy(50, seed=0)
    train_Y[:, 3] = 0
    with pytest.raises(ValueError, match=r"class\(es\) \[3\] have no training example"):
        train_mlp_probe(train_X, train_Y, train_X, train_Y, seed=0, max_epochs=1)
    with pytest.raises(ValueError, match="NaN"):
        train_mlp_probe(train_X * np.nan, train_Y, train_X, train_Y, seed=0, max_epochs=1)


def test_evaluate_localisation_map_end_to_end() -> None:
    cells = _cells()
    result = evaluate_localisation_map(
        cells, n_classes=N_CLASSES, seed=0, max_epochs=15, patience=5, batch_size=64, device="cpu"
    )
    assert result["n_train_cells"] + result["n_val_cells"] + result["n_test_cells"] == len(cells)
    assert result["n_test_fovs"] == result["n_test_cells"] // 4
    assert 80 < result["single_cell_map"] <= 100 and 80 < result["fov_map"] <= 100
    assert result["n_classes_scored"] == N_CLASSES
    given = cells.assign(Metadata_split=np.where(cells.index % 2 == 0, "train", "val"))
    given.loc[given.index >= 240, "Metadata_split"] = "test"
    with pytest.raises(ValueError, match="more than one split"):
        evaluate_localisation_map(given, n_classes=N_CLASSES, seed=0, split_col="Metadata_split", max_epochs=1)
    with pytest.raises(ValueError, match="Metadata_antibody"):
        evaluate_localisation_map(cells.drop(columns="Metadata_antibody"), n_classes=N_CLASSES, seed=0)


def test_standardize_with_uses_the_reference_rows_only() -> None:
    reference = np.array([[0.0, 5.0], [2.0, 5.0]])
    X = np.array([[1.0, 5.0], [3.0, 7.0]])
    np.testing.assert_allclose(standardize_with(X, reference), [[0.0, 0.0], [2.0, 2.0]])


def test_features_in_mixed_units_are_standardised_before_the_probe() -> None:
    """A feature in thousands (an area) beside the informative ones must not swamp the probe."""
    cells = _cells()
    scaled = cells.assign(emb_area=np.random.default_rng(0).normal(5000.0, 1000.0, len(cells)))
    options = {"n_classes": N_CLASSES, "seed": 0, "max_epochs": 15, "patience": 5, "batch_size": 64, "device": "cpu"}
    plain = evaluate_localisation_map(scaled, standardize=False, **options)
    standardised = evaluate_localisation_map(scaled, **options)
    assert standardised["single_cell_map"] > 80 > plain["single_cell_map"]
