"""MLP probe on frozen single-cell features, SubCell protocol (supplement Tables A and B).

``Linear(d, 512)-ReLU-Dropout(0.5)-Linear(512, 256)-ReLU-Dropout(0.5)-Linear(256, C)`` trained with
the sigmoid focal loss (alpha 0.25, gamma 2, mean), AdamW (lr 1e-3, torch's default weight decay
0.01), ReduceLROnPlateau on the validation macro average precision (mode max, patience 4, factor
0.5), early stopping and model selection on the same score. Single cells are scored directly; a
field of view (FoV) is scored by the mean of the logits of its cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score
from sklearn.preprocessing import StandardScaler
from torch import nn
from torchvision.ops import sigmoid_focal_loss

from celldino_utils.config.device import select_device
from celldino_utils.evaluate.splits import SPLITS, grouped_split
from celldino_utils.io.classes import label_sets
from celldino_utils.io.profiles import feature_matrix, require_metadata

HIDDEN = (512, 256)
DROPOUT = 0.5
LEARNING_RATE = 1e-3
PLATEAU = {"mode": "max", "patience": 4, "factor": 0.5}
FOCAL = {"alpha": 0.25, "gamma": 2.0, "reduction": "mean"}  # torchvision.ops.sigmoid_focal_loss, mean over elements


class UniformMaskDropout(nn.Dropout):
    """``nn.Dropout`` with its mask drawn by thresholding uniform noise: the same distribution, a different stream.

    On the CPU torch draws dropout masks with Bernoulli sampling, about four times slower than uniform noise;
    that was a third of the probe's training time.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p
        return x * keep / (1.0 - self.p)


def build_mlp_probe(n_features: int, n_classes: int) -> nn.Sequential:
    """The SubCell MLP: ``(B, n_features) -> (B, n_classes)`` logits."""
    return nn.Sequential(
        nn.Linear(n_features, HIDDEN[0]),
        nn.ReLU(),
        UniformMaskDropout(DROPOUT),
        nn.Linear(HIDDEN[0], HIDDEN[1]),
        nn.ReLU(),
        UniformMaskDropout(DROPOUT),
        nn.Linear(HIDDEN[1], n_classes),
    )


def multi_hot(labels: pd.Series, *, n_classes: int, sep: str = " ") -> np.ndarray:
    """``(N, n_classes)`` 0/1 matrix from class-index strings such as ``"0 25"``.

    Raises ``ValueError`` naming the column if a row has no label, a non-integer or an index
    outside ``[0, n_classes)``.
    """
    out = np.zeros((len(labels), n_classes), dtype=np.float32)
    for row, (text, parts) in enumerate(zip(labels.astype(str), label_sets(labels, sep=sep), strict=True)):
        if not parts or not all(p.isdigit() and int(p) < n_classes for p in parts):
            raise ValueError(
                f"column {labels.name!r}, row {row}: label {text!r} is not a {sep!r}-separated list of "
                f"class indices in [0, {n_classes})"
            )
        out[row, [int(p) for p in parts]] = 1.0
    return out


def macro_average_precision(Y: np.ndarray, scores: np.ndarray) -> float:
    """Macro average precision over the classes that have at least one positive in ``Y``.

    Parameters
    ----------
    Y
        ``(N, C)`` multi-hot truth.
    scores
        ``(N, C)`` scores (logits or probabilities: AP depends only on the ranking).

    Returns
    -------
    float
        Unweighted mean of scikit-learn ``average_precision_score`` over the present classes, in
        ``[0, 1]``. A class with no positive has no defined AP and is left out (not counted as 0);
        raises if no class has a positive.
    """
    Y, scores = np.asarray(Y), np.asarray(scores)
    if Y.ndim != 2 or Y.shape != scores.shape:
        raise ValueError(f"macro_average_precision: Y {Y.shape} and scores {scores.shape} must be equal (N, C)")
    present = Y.sum(axis=0) > 0
    if not present.any():
        raise ValueError("macro_average_precision: no class has a positive example in Y")
    return float(average_precision_score(Y[:, present], scores[:, present], average="macro"))


def fov_logits(cell_logits: np.ndarray, fov_ids: Sequence[object] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FoV scores as the mean of the logits of its single cells (SubCell supplement).

    Parameters
    ----------
    cell_logits
        ``(N, C)`` logits of ``N`` cells.
    fov_ids
        ``N`` FoV identifiers, one per cell.

    Returns
    -------
    tuple of numpy.ndarray
        The ``F`` distinct FoV ids in order of first appearance, and their ``(F, C)`` mean logits.
    """
    cell_logits = np.asarray(cell_logits)
    fov_ids = np.asarray(fov_ids)
    if cell_logits.ndim != 2 or len(fov_ids) != len(cell_logits):
        raise ValueError(f"fov_logits: {len(fov_ids)} FoV ids for cell_logits of shape {cell_logits.shape}")
    means = pd.DataFrame(cell_logits).groupby(fov_ids, sort=False).mean()
    return means.index.to_numpy(), means.to_numpy()


def _check_xy(X: np.ndarray, Y: np.ndarray, *, name: str) -> None:
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or len(X) == 0:
        raise ValueError(f"train_mlp_probe: {name}_X {X.shape} and {name}_Y {Y.shape} must be (N, D) and (N, C), N > 0")
    if not np.isfinite(X).all():
        raise ValueError(f"train_mlp_probe: {name}_X holds NaN or infinite values")


def _check_inputs(train_X: np.ndarray, train_Y: np.ndarray, val_X: np.ndarray, val_Y: np.ndarray) -> None:
    _check_xy(train_X, train_Y, name="train")
    _check_xy(val_X, val_Y, name="val")
    if val_X.shape[1] != train_X.shape[1] or val_Y.shape[1] != train_Y.shape[1]:
        raise ValueError(f"train_mlp_probe: val shapes {val_X.shape}/{val_Y.shape} differ from train's")
    absent = np.flatnonzero(train_Y.sum(axis=0) == 0)
    if len(absent):
        raise ValueError(f"train_mlp_probe: class(es) {absent.tolist()} have no training example")
    if not (val_Y.sum(axis=0) > 0).any():
        raise ValueError("train_mlp_probe: no class has a validation example; model selection needs one")


def _train_epoch(
    model: nn.Module, X: torch.Tensor, Y: torch.Tensor, optimiser: Any, order: torch.Tensor, bs: int
) -> float:
    """One pass over ``X`` in the given order; returns the mean focal loss over batches."""
    model.train()
    losses = []
    for start in range(0, len(order), bs):
        batch = order[start : start + bs]
        loss = sigmoid_focal_loss(model(X[batch]), Y[batch], **FOCAL)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def train_mlp_probe(
    train_X: np.ndarray,
    train_Y: np.ndarray,
    val_X: np.ndarray,
    val_Y: np.ndarray,
    *,
    seed: int,
    max_epochs: int = 200,
    patience: int = 20,
    batch_size: int = 256,
    device: str | None = None,
) -> tuple[nn.Sequential, pd.DataFrame]:
    """Train the SubCell MLP probe; keep the epoch with the best validation macro AP.

    Parameters
    ----------
    train_X, val_X
        ``(N, D)`` frozen features.
    train_Y, val_Y
        ``(N, C)`` multi-hot labels; every class needs a training example.
    seed
        Seeds initialisation, dropout and batch order (torch's global generator is restored after).
    max_epochs, patience
        Epoch budget, and epochs without a better validation macro AP before stopping.
    batch_size
        Cells per step (SubCell does not state one; 256 is our choice).
    device
        ``"cpu"``, ``"cuda"``, ... or None for :func:`celldino_utils.config.select_device`.

    Returns
    -------
    tuple
        The model (best epoch's weights, eval mode) and a history table with one row per epoch:
        ``epoch``, ``lr``, ``train_loss``, ``val_loss``, ``val_map`` (in ``[0, 1]``), ``best``.
    """
    train_X, train_Y, val_X, val_Y = (np.asarray(a, dtype=np.float32) for a in (train_X, train_Y, val_X, val_Y))
    _check_inputs(train_X, train_Y, val_X, val_Y)
    if max_epochs < 1 or patience < 1 or batch_size < 1:
        raise ValueError(
            f"train_mlp_probe: max_epochs, patience, batch_size must be >= 1: {max_epochs, patience, batch_size}"
        )
    dev = select_device(device)
    features, labels = torch.from_numpy(train_X).to(dev), torch.from_numpy(train_Y).to(dev)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        model = build_mlp_probe(train_X.shape[1], train_Y.shape[1]).to(dev)
        optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, **PLATEAU)
        order_rng = torch.Generator().manual_seed(seed)
        best, best_state, waited, rows = -np.inf, None, 0, []
        for epoch in range(1, max_epochs + 1):
            lr = optimiser.param_groups[0]["lr"]
            order = torch.randperm(len(train_X), generator=order_rng).to(dev)
            train_loss = _train_epoch(model, features, labels, optimiser, order, batch_size)
            val_logits = predict_logits(model, val_X, batch_size=max(batch_size, 4096))
            val_map = macro_average_precision(val_Y, val_logits)
            val_loss = float(sigmoid_focal_loss(torch.from_numpy(val_logits), torch.from_numpy(val_Y), **FOCAL))
            scheduler.step(val_map)
            improved = val_map > best
            if improved:
                best, waited = val_map, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
            rows.append({"epoch": epoch, "lr": lr, "train_loss": train_loss, "val_loss": val_loss, "val_map": val_map})
            rows[-1]["best"] = improved
            if waited >= patience:
                break
    model.load_state_dict(best_state)
    return model.eval(), pd.DataFrame(rows)


@torch.no_grad()
def predict_logits(model: nn.Module, X: np.ndarray, *, batch_size: int = 4096) -> np.ndarray:
    """``(N, C)`` logits of ``model`` (eval mode, on the device of its weights) for ``(N, D)`` features."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"predict_logits: X must be a non-empty (N, D) array, got shape {X.shape}")
    device = next(model.parameters()).device
    model.eval()
    parts = [model(torch.from_numpy(X[i : i + batch_size]).to(device)).cpu() for i in range(0, len(X), batch_size)]
    return torch.cat(parts).numpy()


def _split_of(cells: pd.DataFrame, split_col: str | None, options: dict[str, Any]) -> pd.Series:
    """The given split column (checked) or a fresh grouped split by antibody."""
    source = "evaluate_localisation_map(cells)"
    if split_col is None:
        return grouped_split(cells, **options)
    require_metadata(cells, [split_col], source=source)
    values = set(cells[split_col].unique())
    if values != set(SPLITS):
        raise ValueError(f"{source}: column {split_col!r} must hold exactly {SPLITS}, found {sorted(map(str, values))}")
    return cells[split_col]


def standardize_with(X: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``X`` scaled by a ``StandardScaler`` fitted on ``reference`` (population std; constant columns keep scale 1)."""
    return StandardScaler().fit(reference).transform(X)


def evaluate_localisation_map(
    cells: pd.DataFrame,
    *,
    label_col: str = "Metadata_Target",
    n_classes: int,
    group_col: str = "Metadata_antibody",
    fov_col: str = "Metadata_Id",
    seed: int,
    split_col: str | None = None,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    max_epochs: int = 200,
    patience: int = 20,
    batch_size: int = 256,
    device: str | None = None,
    standardize: bool = True,
) -> dict[str, Any]:
    """Single-cell and FoV mean average precision of the MLP probe (supplement Tables A and B).

    Parameters
    ----------
    cells
        Single-cell profiles: ``Metadata_*`` columns then features; ``label_col`` holds
        space-separated class indices (``"0 16"``).
    n_classes
        Number of classes (19 or 31 for Tables A and B).
    group_col, fov_col
        Antibody (split unit: no antibody in two splits) and field-of-view columns.
    seed
        Seed of the split and of the probe.
    split_col
        Optional column with a given ``"train"``/``"val"``/``"test"`` split (e.g. SubCell's); if
        None, :func:`grouped_split` by ``group_col`` with ``fractions``, every class kept in train.
    max_epochs, patience, batch_size, device
        :func:`train_mlp_probe` options.
    standardize
        Scale every feature to zero mean and unit variance with the training cells' statistics before
        the probe (SubCell feeds its embeddings as they are). Needed for features in mixed units, such
        as the CellProfiler-style areas in pixels beside intensities in [0, 1]; constant features become 0.

    Returns
    -------
    dict
        ``single_cell_map`` and ``fov_map`` (macro AP on the test split, times 100 as in the tables),
        ``n_classes_scored`` and ``n_classes_scored_fov`` (classes with a test positive), cell and
        FoV counts, ``best_epoch``, ``best_val_map`` and ``history``. A FoV's truth is the union of
        its cells' labels; its score the mean of their logits.
    """
    source = "evaluate_localisation_map(cells)"
    require_metadata(cells, [label_col, group_col, fov_col], source=source)
    X = feature_matrix(cells, source=source)
    Y = multi_hot(cells[label_col], n_classes=n_classes)
    options = {"group_col": group_col, "fractions": fractions, "seed": seed, "label_col": label_col}
    split = _split_of(cells, split_col, options).to_numpy()
    spread = pd.Series(split).groupby(cells[fov_col].to_numpy()).nunique()
    if (spread > 1).any():
        raise ValueError(f"{source}: FoV(s) {list(spread[spread > 1].index[:5])} have cells in more than one split")
    parts = {name: split == name for name in SPLITS}
    if standardize:
        X = standardize_with(X, X[parts["train"]])
    model, history = train_mlp_probe(
        X[parts["train"]], Y[parts["train"]], X[parts["val"]], Y[parts["val"]],
        seed=seed, max_epochs=max_epochs, patience=patience, batch_size=batch_size, device=device,
    )  # fmt: skip
    test = parts["test"]
    logits = predict_logits(model, X[test])
    fov_ids, fov_scores = fov_logits(logits, cells[fov_col].to_numpy()[test])
    fov_truth = pd.DataFrame(Y[test]).groupby(cells[fov_col].to_numpy()[test], sort=False).max().loc[fov_ids]
    best = history.loc[history["val_map"].idxmax()]
    return {
        "single_cell_map": 100 * macro_average_precision(Y[test], logits),
        "fov_map": 100 * macro_average_precision(fov_truth.to_numpy(), fov_scores),
        "n_classes_scored": int((Y[test].sum(axis=0) > 0).sum()),
        "n_classes_scored_fov": int((fov_truth.to_numpy().sum(axis=0) > 0).sum()),
        "n_train_cells": int(parts["train"].sum()),
        "n_val_cells": int(parts["val"].sum()),
        "n_test_cells": int(test.sum()),
        "n_test_fovs": len(fov_ids),
        "best_epoch": int(best["epoch"]),
        "best_val_map": float(best["val_map"]),
        "history": history,
    }
