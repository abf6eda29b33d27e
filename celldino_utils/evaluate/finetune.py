"""Supervised fine-tuning of a backbone with a linear head on fields of view (supplement Table C).

"Cell-DINO ft" trains the whole network and a linear head on labels, against the frozen linear probe
(:func:`celldino_utils.evaluate.linear_probe_f1`): AdamW, backbone lr below the head's (optionally decayed
layer by layer), linear warm-up then cosine decay per step; training images get a random resized crop and
flips, then self-normalisation (the official Cell-DINO recipe); validation and test images the evaluation
transform. Cross-entropy for one class per row (cell line), BCE-with-logits for class sets (localisation); the
epoch with the best validation macro F1 (ties: lower validation loss) is kept. The head's bias starts at the
training class frequencies, so an untrained model predicts the prior, not noise around probability 0.5. F1 as
``linear_probe_f1`` (multilabel: probability >= 0.5; ``zero_division=0``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from celldino_utils.augment import EvalTransform, random_flips, random_resized_crop, self_normalize
from celldino_utils.config.device import default_precision, precision_context, select_device
from celldino_utils.evaluate.linear_probe import held_out_groups
from celldino_utils.evaluate.splits import SPLITS
from celldino_utils.io.classes import label_sets
from celldino_utils.train.optim import param_groups
from celldino_utils.train.schedules import cosine_schedule

#: Standard deviation of the head's initial weights (dinov2 linear evaluation); biases start at 0.
HEAD_INIT_STD = 0.01
Scale = tuple[float, float] | None


class FineTuneClassifier(nn.Module):
    """A backbone and a linear head: self-normalised images ``(B, C, H, W)`` -> logits ``(B, K)``.

    ``backbone`` maps ``(B, C, H, W)`` to ``(B, E)``, ``E = backbone.embedding_dim(C)`` if it has that method
    (:class:`~celldino_utils.models.ViTBackbone`), else ``backbone.embed_dim``. The head standardises the
    embedding with an affine-free ``BatchNorm1d`` (like the probe's ``StandardScaler``; MAE linear probing), so
    it is linear at inference and learns fast. ``classes`` names the ``K`` logits; ``multilabel`` (sigmoid, else
    softmax) and ``image_size`` (side of the evaluation images; None: their native size) are kept for prediction.
    """

    def __init__(
        self, backbone: nn.Module, *, n_channels: int, classes: Sequence[str], multilabel: bool, image_size: int | None
    ) -> None:
        super().__init__()
        self.backbone, self.classes, self.multilabel, self.image_size = backbone, list(classes), multilabel, image_size
        dim = backbone.embedding_dim(n_channels) if hasattr(backbone, "embedding_dim") else backbone.embed_dim
        self.norm = nn.BatchNorm1d(dim, affine=False)
        self.head = nn.Linear(dim, len(self.classes))
        nn.init.normal_(self.head.weight, std=HEAD_INIT_STD)
        nn.init.zeros_(self.head.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K)`` of self-normalised images ``(B, C, H, W)``."""
        return self.head(self.norm(self.backbone(images)))


class _Rows(Dataset):
    """The rows ``indices`` of a field dataset, with the matching slice of its ``metadata``."""

    def __init__(self, fields: Dataset, indices: np.ndarray) -> None:
        self.fields, self.indices = fields, indices
        self.metadata = fields.metadata.iloc[indices].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.fields[int(self.indices[i])]


class _Labelled(Dataset):
    """Items ``(image, target)``: augmented with ``crop_scale`` for training, or (None) the evaluation transform.

    The augmentation of item ``i`` in epoch ``e`` draws from a generator seeded by ``(seed, e, i)``,
    so results do not depend on the batch order or on the number of loader workers.
    """

    def __init__(
        self,
        fields: Dataset,
        targets: torch.Tensor,
        *,
        size: int | None,
        eval_size: int | None,
        crop_scale: Scale,
        seed: int,
    ) -> None:
        self.fields, self.targets, self.size, self.crop_scale, self.seed = fields, targets, size, crop_scale, seed
        self.evaluation = EvalTransform(resize_size=eval_size, crop_size=eval_size)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.fields)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.fields[i]
        if self.crop_scale is None:
            return self.evaluation(image), self.targets[i]
        state = np.random.SeedSequence([self.seed, self.epoch, i]).generate_state(1)[0]
        generator = torch.Generator().manual_seed(int(state))
        image = random_resized_crop(image.float(), size=self.size, scale=self.crop_scale, generator=generator)
        return self_normalize(random_flips(image, generator=generator)), self.targets[i]


def _label_sets(table: pd.DataFrame, *, label_col: str, multilabel: bool, sep: str, name: str) -> list[frozenset]:
    """One set of class labels per row of ``table``; raises naming the column and the split."""
    if label_col not in table.columns:
        raise ValueError(f"finetune: label column {label_col!r} not in the {name} metadata ({list(table.columns)})")
    if len(table) == 0:
        raise ValueError(f"finetune: the {name} split is empty")
    sets = label_sets(table[label_col], sep=sep if multilabel else None)
    if not all(sets):
        raise ValueError(f"finetune: {sets.count(frozenset())} row(s) of column {label_col!r} ({name}) hold no label")
    return sets


def _targets(
    train: Dataset, other: Dataset, *, label_col: str, multilabel: bool, sep: str, name: str = "val"
) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Sorted training classes; targets of ``train`` and ``other``: indices ``(N,)`` or multi-hot ``(N, K)``."""
    options = {"label_col": label_col, "multilabel": multilabel, "sep": sep}
    train_sets = _label_sets(train.metadata, name="train", **options)
    other_sets = _label_sets(other.metadata, name=name, **options)
    if len(train_sets) < 2:
        raise ValueError(f"finetune: train needs at least 2 rows (batch normalisation), got {len(train_sets)}")
    classes = sorted(frozenset().union(*train_sets))
    if not multilabel and len(classes) < 2:
        raise ValueError(f"finetune: column {label_col!r} of train needs at least 2 classes, got {classes}")
    unseen = sorted(frozenset().union(*other_sets) - set(classes))
    if unseen:
        raise ValueError(f"finetune: {name} class(es) {unseen[:5]} of column {label_col!r} have no training example")
    index = {c: k for k, c in enumerate(classes)}
    encoded = []
    for sets in (train_sets, other_sets):
        if multilabel:
            encoded.append(torch.tensor([[float(c in s) for c in classes] for s in sets]))
        else:
            encoded.append(torch.tensor([index[next(iter(s))] for s in sets], dtype=torch.long))
    return classes, encoded[0], encoded[1]


def _optimizer(model: FineTuneClassifier, *, lr: tuple[float, float], weight_decay: float, layer_decay: float) -> Any:
    """AdamW; groups keep their peak ``base_lr`` (``lr``: backbone, head). No weight decay on biases, norms, tokens."""
    (lr_backbone, lr_head), backbone = lr, model.backbone
    if hasattr(backbone, "vit"):  # a timm ViT: dinov2's groups (layer-wise decay, no decay on tokens)
        vit_groups = param_groups(
            nn.ModuleDict({"backbone": backbone}), layerwise_decay=layer_decay, patch_embed_lr_mult=1
        )
        groups = [
            (g["params"], lr_backbone * g["lr_multiplier"], weight_decay * g["wd_multiplier"]) for g in vit_groups
        ]
    else:  # any module: no decay on parameters of dimension <= 1 (biases, norms)
        params = [p for p in backbone.parameters() if p.requires_grad]
        groups = [([p for p in params if p.ndim <= 1], lr_backbone, 0.0)]
        groups.append(([p for p in params if p.ndim > 1], lr_backbone, weight_decay))
    groups += [([model.head.bias], lr_head, 0.0), ([model.head.weight], lr_head, weight_decay)]
    return torch.optim.AdamW([{"params": p, "base_lr": lr, "weight_decay": wd} for p, lr, wd in groups if p], lr=0.0)


def _prior_logits(targets: torch.Tensor, *, n_classes: int, multilabel: bool) -> torch.Tensor:
    """Head bias that predicts the training class frequencies: log-odds (multilabel) or log-prior (multiclass)."""
    if multilabel:
        p = targets.float().mean(dim=0).clamp(1e-3, 1 - 1e-3)
        return torch.log(p / (1 - p))
    return torch.log(torch.bincount(targets, minlength=n_classes).float() / len(targets))


def _loss(logits: torch.Tensor, targets: torch.Tensor, *, multilabel: bool) -> torch.Tensor:
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, targets) if multilabel else F.cross_entropy(logits, targets)


def _macro_f1(logits: torch.Tensor, targets: torch.Tensor, *, multilabel: bool) -> float:
    """Macro F1 with the conventions of ``linear_probe_f1`` (probability >= 0.5 means logit >= 0)."""
    predicted = (logits >= 0).int() if multilabel else logits.argmax(dim=1)
    return float(f1_score(targets.int().numpy(), predicted.numpy(), average="macro", zero_division=0))


@torch.no_grad()
def _logits(model: FineTuneClassifier, loader: DataLoader, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Float logits ``(N, K)`` and targets of every item of ``loader``, on the CPU."""
    model.eval()
    logits, targets = [], []
    with precision_context(device, default_precision(device)):
        for images, target in loader:
            logits.append(model(images.to(device)).float().cpu())
            targets.append(target)
    return torch.cat(logits), torch.cat(targets)


def _train_epoch(
    model: FineTuneClassifier, loader: DataLoader, optimizer: Any, schedule: torch.Tensor, *, step: int, device: Any
) -> tuple[float, int]:
    """One pass over ``loader``; the lr of every group is ``base_lr * schedule[step]``. Returns mean loss, next step."""
    model.train()
    losses = []
    for images, targets in loader:
        for group in optimizer.param_groups:
            group["lr"] = group["base_lr"] * float(schedule[step])
        with precision_context(device, default_precision(device)):
            logits = model(images.to(device))
        loss = _loss(logits, targets.to(device), multilabel=model.multilabel)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        step += 1
    return float(np.mean(losses)), step


def _loaders(train: Dataset, val: Dataset, *, batch_size: int, seed: int, num_workers: int) -> tuple[DataLoader, ...]:
    """Seeded shuffled training batches (a last partial batch is dropped: batch norm) and validation batches."""
    order = torch.Generator().manual_seed(seed)
    drop = len(train) > batch_size
    train_loader = DataLoader(train, batch_size, shuffle=True, generator=order, num_workers=num_workers, drop_last=drop)
    return train_loader, DataLoader(val, batch_size, num_workers=num_workers)


def _fit(
    model: FineTuneClassifier, loaders: tuple[DataLoader, ...], optimizer: Any, schedule: torch.Tensor, **kw: Any
) -> pd.DataFrame:
    """Train ``len(schedule) / len(train loader)`` epochs; load the best validated epoch's weights.

    Only the last ``kw["validate_last"]`` epochs (None: all) are validated and can be kept (``finetune_classifier``).
    """
    train_loader, val_loader = loaders
    epochs = len(schedule) // len(train_loader)
    first_validated = 1 if kw["validate_last"] is None else max(1, epochs - kw["validate_last"] + 1)
    best, best_state, rows, step = (-np.inf, -np.inf), None, [], 0
    for epoch in tqdm(range(1, epochs + 1), desc="finetune", disable=not kw["progress"], leave=False):
        start = time.perf_counter()
        train_loader.dataset.epoch = epoch
        train_loss, step = _train_epoch(model, train_loader, optimizer, schedule, step=step, device=kw["device"])
        val_f1 = val_loss = np.nan
        improved = False
        if epoch >= first_validated:
            logits, targets = _logits(model, val_loader, kw["device"])
            val_f1 = _macro_f1(logits, targets, multilabel=model.multilabel)
            val_loss = float(_loss(logits, targets, multilabel=model.multilabel))
            improved = (val_f1, -val_loss) > best
        if improved:
            best = (val_f1, -val_loss)
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        lr_head, seconds = optimizer.param_groups[-1]["lr"], time.perf_counter() - start
        rows.append(dict(epoch=epoch, lr_head=lr_head, train_loss=train_loss, val_loss=val_loss, val_f1=val_f1))
        rows[-1] |= {"best": improved, "seconds": seconds}
    model.load_state_dict(best_state)
    return pd.DataFrame(rows)


def finetune_classifier(
    backbone: nn.Module,
    train: Dataset,
    val: Dataset,
    *,
    label_col: str,
    multilabel: bool,
    epochs: int = 6,
    batch_size: int = 32,
    lr_backbone: float = 5e-4,
    lr_head: float = 1e-2,
    weight_decay: float = 0.05,
    resize_size: int | None = 64,
    crop_size: int | None = None,
    seed: int = 0,
    device: str | None = None,
    augment: bool = True,
    progress: bool = False,
    warmup_epochs: float = 1.0,
    layer_decay: float = 1.0,
    crop_scale: tuple[float, float] = (0.4, 1.0),
    label_sep: str = " ",
    num_workers: int = 0,
    validate_last: int | None = None,
) -> tuple[FineTuneClassifier, pd.DataFrame]:
    """Fine-tune a copy of ``backbone`` with a linear head; keep the epoch with the best validation macro F1.

    Parameters
    ----------
    backbone
        Module mapping ``(B, C, H, W)`` to ``(B, E)`` (see :class:`FineTuneClassifier`); not modified.
    train, val
        Field datasets (:func:`celldino_utils.io.open_fields`): item ``i`` ``(C, H, W)`` in [0, 1], its labels
        in ``metadata`` row ``i``.
    label_col
        Metadata column: one class per row (``multilabel=False``, e.g. ``Metadata_cell_line``) or
        ``label_sep``-separated class sets (``multilabel=True``, e.g. ``Metadata_Target``).
    epochs, batch_size, warmup_epochs
        Training length, fields per step, and the linear warm-up before the per-step cosine decay to 0.
    lr_backbone, lr_head, weight_decay, layer_decay
        AdamW peak learning rates of the backbone and the head, weight decay (none on biases, norms and
        tokens), and the layer-wise decay of the backbone's lr (1 = none; only for timm ViT backbones).
    resize_size, crop_size, augment, crop_scale
        Evaluation images: resize of the shorter side to ``resize_size`` and centre crop, or None for the native
        size (what the frozen embeddings see). Training images: random resized crops of area fraction
        ``crop_scale`` to ``crop_size`` pixels (None: ``resize_size``) and flips, or, if not ``augment``, the
        evaluation transform.
    seed, device, progress, num_workers
        Seeds head, batch order and augmentations (on CPU, same inputs and seed give the same model); ``"cpu"``,
        ``"cuda"``... or None (:func:`celldino_utils.config.select_device`; bf16 autocast on CUDA); tqdm bar; workers.
    validate_last
        Validate only the last ``validate_last`` epochs and keep the best of those; None validates every epoch.
        Validation at native size can cost as much as an epoch's training, and under the cosine decay the best
        epoch is nearly always among the last ones.

    Returns
    -------
    tuple
        The model (best epoch's weights, eval mode, ``classes`` sorted training labels) and a history with one
        row per epoch: ``epoch``, ``lr_head`` (at the epoch's last step), ``train_loss``, ``val_loss``,
        ``val_f1`` (in [0, 1]; NaN where not validated), ``best`` (a new best: higher validation F1, or the same
        and lower validation loss; the last such epoch is kept), ``seconds``.
    """
    crop_size = crop_size or resize_size
    if crop_size is None and augment:
        raise ValueError("finetune_classifier: crop_size is needed for augmented training at native resolution")
    positive = {"epochs": epochs, "batch_size": batch_size, "lr_backbone": lr_backbone, "lr_head": lr_head}
    positive |= {name: v for name, v in (("resize_size", resize_size), ("crop_size", crop_size)) if v is not None}
    positive |= {"validate_last": validate_last} if validate_last is not None else {}
    if min(positive.values()) <= 0:
        raise ValueError(f"finetune_classifier: options must be positive, got {positive}")
    classes, y_train, y_val = _targets(train, val, label_col=label_col, multilabel=multilabel, sep=label_sep)
    dev = select_device(device)
    scale = crop_scale if augment else None
    train_set = _Labelled(train, y_train, size=crop_size, eval_size=resize_size, crop_scale=scale, seed=seed)
    val_set = _Labelled(val, y_val, size=crop_size, eval_size=resize_size, crop_scale=None, seed=seed)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        model = FineTuneClassifier(
            copy.deepcopy(backbone).requires_grad_(True),  # a released model comes frozen; all of it learns here
            n_channels=train[0].shape[0], classes=classes, multilabel=multilabel, image_size=resize_size,
        )  # fmt: skip
        with torch.no_grad():
            model.head.bias.copy_(_prior_logits(y_train, n_classes=len(classes), multilabel=multilabel))
        model = model.to(dev)
        optimizer = _optimizer(model, lr=(lr_backbone, lr_head), weight_decay=weight_decay, layer_decay=layer_decay)
        loaders = _loaders(train_set, val_set, batch_size=batch_size, seed=seed, num_workers=num_workers)
        steps = len(loaders[0])
        schedule = cosine_schedule(1.0, 0.0, total_steps=epochs * steps, warmup_steps=round(warmup_epochs * steps))
        history = _fit(model, loaders, optimizer, schedule, device=dev, progress=progress, validate_last=validate_last)
    return model.eval(), history


def predict_fields(
    model: FineTuneClassifier, fields: Dataset, *, batch_size: int = 64, num_workers: int = 0
) -> np.ndarray:
    """Logits ``(N, K)`` of ``model`` for the fields ``(C, H, W)`` of ``fields`` (evaluation transform, eval mode)."""
    if len(fields) == 0:
        raise ValueError("predict_fields: the dataset is empty")
    device = next(model.parameters()).device
    dummy = torch.zeros(len(fields), dtype=torch.long)
    data = _Labelled(fields, dummy, size=None, eval_size=model.image_size, crop_scale=None, seed=0)
    logits, _ = _logits(model, DataLoader(data, batch_size, num_workers=num_workers), device)
    return logits.numpy()


def _split_rows(fields: Dataset, split: pd.Series) -> dict[str, np.ndarray]:
    """Row positions of each split; raises on a length mismatch, unknown values or an empty split."""
    values = np.asarray(split, dtype=object)
    unknown = sorted(set(map(str, values)) - set(SPLITS))
    rows = {name: np.flatnonzero(values == name) for name in SPLITS}
    empty = [name for name, r in rows.items() if len(r) == 0]
    problems = [f"{len(values)} rows for {len(fields)} fields"] if len(values) != len(fields) else []
    problems += ([f"unknown values {unknown[:5]}"] if unknown else []) + ([f"empty: {empty}"] if empty else [])
    if problems:
        raise ValueError(f"finetune_f1: split must give one of {SPLITS} per field: {'; '.join(problems)}")
    return rows


def finetune_f1(
    backbone: nn.Module,
    fields: Dataset,
    *,
    label_col: str,
    multilabel: bool,
    split: pd.Series,
    **options: Any,
) -> dict[str, Any]:
    """Test macro F1 of a fine-tuned copy of ``backbone`` (supplement Table C, "Cell-DINO ft").

    Parameters
    ----------
    backbone, fields, label_col, multilabel
        As in :func:`finetune_classifier`; ``backbone`` is left untouched (a deep copy is trained).
    split
        ``"train"``, ``"val"`` or ``"test"`` per row of ``fields``, in order; split by antibody
        (:func:`celldino_utils.evaluate.grouped_split` with ``group_col="Metadata_antibody"``) for both tasks,
        so the same protein is never in two splits.
    options
        Keyword options of :func:`finetune_classifier` (``epochs``, ``seed``, ``device`` ...).

    Returns
    -------
    dict
        ``f1`` (test macro F1 in [0, 1], conventions of ``linear_probe_f1``; times 100 for Table C),
        ``best_epoch``, ``best_val_f1``, ``n_train``, ``n_val``, ``n_test``, ``classes``, ``seconds`` and
        ``history`` (see :func:`finetune_classifier`).
    """
    start = time.perf_counter()
    rows = _split_rows(fields, split)
    parts = {name: _Rows(fields, r) for name, r in rows.items()}
    labels = {"label_col": label_col, "multilabel": multilabel}
    _, _, targets = _targets(parts["train"], parts["test"], sep=options.get("label_sep", " "), name="test", **labels)
    model, history = finetune_classifier(backbone, parts["train"], parts["val"], **labels, **options)
    logits = predict_fields(model, parts["test"], batch_size=options.get("batch_size", 64))
    best = history[history["best"]].iloc[-1]
    return {
        "f1": _macro_f1(torch.from_numpy(logits), targets, multilabel=multilabel),
        "best_epoch": int(best["epoch"]),
        "best_val_f1": float(best["val_f1"]),
        **{f"n_{name}": len(r) for name, r in rows.items()},
        "classes": model.classes,
        "seconds": time.perf_counter() - start,
        "history": history,
    }


def heldout_finetune_f1(
    backbone: nn.Module,
    fields: Dataset,
    *,
    label_col: str,
    group_col: str,
    steps: int,
    multilabel: bool = False,
    query: str | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    held_out: Sequence[object] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Macro F1 on each value of ``group_col`` of ``backbone`` fine-tuned for about ``steps`` steps on the others.

    The end-to-end counterpart of :func:`celldino_utils.evaluate.heldout_probe_f1`, on the same rows and groups:
    what the architecture learns from the labels themselves with a given number of optimiser steps.

    Parameters
    ----------
    backbone, fields, label_col, multilabel
        As in :func:`finetune_f1` (single cells from :func:`celldino_utils.io.open_cells` work as fields do).
    group_col
        Metadata column held out one value at a time.
    steps
        Optimiser steps of each fine-tune, rounded to whole epochs (at least one).
    query
        ``DataFrame.query`` on ``fields.metadata`` selecting the rows used, or None for all.
    val_fraction
        Share of the training groups' rows set aside as the validation split ``finetune_f1`` needs; only the last
        epoch is validated and kept, so nothing is selected on it.
    seed
        Seeds the validation rows and each fine-tune.
    held_out
        The values of ``group_col`` held out in turn, or None for every value (as
        :func:`celldino_utils.evaluate.heldout_probe_f1`): each one is a fine-tune, the cost of this function.
    options
        Other keyword options of :func:`finetune_classifier` (``batch_size``, ``resize_size``, ``crop_size``...).

    Returns
    -------
    dict
        ``f1_by_group`` (``{group value: test macro F1 in [0, 1]}``, sorted), ``steps`` and ``epochs`` (per
        fine-tune, the mean over the groups, whose training rows round ``steps`` to whole epochs each) and
        ``seconds``.
    """
    if steps < 1 or not 0.0 < val_fraction < 1.0:
        raise ValueError(f"heldout_finetune_f1: need steps >= 1 and 0 < val_fraction < 1, got {steps}, {val_fraction}")
    start = time.perf_counter()
    metadata = fields.metadata
    if group_col not in metadata.columns:
        raise ValueError(
            f"heldout_finetune_f1: group column {group_col!r} not in the metadata ({list(metadata.columns)})"
        )
    selected = np.flatnonzero(metadata.eval(query).to_numpy(bool)) if query else np.arange(len(metadata))
    rows = _Rows(fields, selected)
    groups = held_out_groups(rows.metadata[group_col], held_out, source="heldout_finetune_f1")
    batch_size = options.pop("batch_size", 32)
    scores, epochs, run_steps = {}, [], []
    every_group = sorted(rows.metadata[group_col].unique())
    for group in groups:
        k = every_group.index(group)  # seeds its validation rows as when every group is held out
        in_group = (rows.metadata[group_col] == group).to_numpy()
        split = np.where(in_group, "test", "train").astype(object)
        others = np.flatnonzero(~in_group)
        val = np.random.default_rng([seed, k]).choice(others, max(2, round(val_fraction * len(others))), replace=False)
        split[val] = "val"
        per_epoch = max(int((split == "train").sum()) // batch_size, 1)
        epochs.append(max(1, round(steps / per_epoch)))
        run_steps.append(epochs[-1] * per_epoch)
        result = finetune_f1(
            backbone, rows, label_col=label_col, multilabel=multilabel, split=pd.Series(split),
            epochs=epochs[-1], batch_size=batch_size, validate_last=1, seed=seed, **options,
        )  # fmt: skip
        scores[group] = result["f1"]
    summary = {"steps": round(float(np.mean(run_steps))), "epochs": round(float(np.mean(epochs)))}
    return {"f1_by_group": scores, **summary, "seconds": time.perf_counter() - start}
