"""Fine-tuning a backbone with a linear head (supplement Table C) on toy fields whose classes are stripe patterns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import timm
import torch
from torch import nn
from torch.utils.data import Dataset

from celldino_utils.evaluate import finetune_classifier, finetune_f1, heldout_finetune_f1
from celldino_utils.evaluate.finetune import FineTuneClassifier, predict_fields
from celldino_utils.models import ARCHITECTURES, ViTBackbone

SIZE = 16
LINES = ("U-2 OS", "A-431", "HeLa")  # spaces in names exercise the multiclass path


def _pattern(kind: int, rng: np.random.Generator) -> np.ndarray:
    """Class 0 horizontal stripes, 1 vertical stripes, 2 a checkerboard; all survive flips and crops."""
    rows, cols = np.indices((SIZE, SIZE))
    phase = rng.integers(0, 4)
    wave = [(rows + phase) // 2 % 2, (cols + phase) // 2 % 2, ((rows + phase) // 2 + cols // 2) % 2][kind]
    return wave.astype(np.float32)


class _ToyFields(Dataset):
    """Fields ``(2, SIZE, SIZE)`` in [0, 1] plus noise: channel 0 the row's class pattern, channel 1 a second class's
    pattern (multilabel rows carry one or two classes) or the same one (multiclass)."""

    def __init__(self, n: int, *, seed: int, multilabel: bool = False) -> None:
        rng = np.random.default_rng(seed)
        kinds = rng.integers(0, 3, n)
        self.images, targets = [], []
        for kind in kinds:
            second = int(rng.integers(0, 3)) if multilabel else kind
            image = rng.uniform(0, 0.2, size=(2, SIZE, SIZE)).astype(np.float32)
            image[0] += 0.6 * _pattern(kind, rng)
            image[1] += 0.6 * _pattern(second, rng)  # multilabel: channel 1 carries a second class
            self.images.append(torch.from_numpy(image))
            targets.append(" ".join(sorted({str(kind), str(second)})))
        self.metadata = pd.DataFrame(
            {"Metadata_Target": targets, "Metadata_cell_line": [LINES[k] for k in kinds], "Metadata_antibody": kinds}
        )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


class _TinyBackbone(nn.Module):
    """Stand-in with the backbone interface: ``forward`` ``(B, C, H, W) -> (B, D)`` and ``embed_dim``."""

    def __init__(self, in_chans: int = 2, embed_dim: int = 16) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.net = nn.Sequential(nn.Conv2d(in_chans, embed_dim, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).flatten(1)


class _Subset(Dataset):
    """Rows of a toy dataset with their metadata, as ``finetune_classifier`` takes them."""

    def __init__(self, fields: _ToyFields, rows: range) -> None:
        self.fields, self.rows = fields, list(rows)
        self.metadata = fields.metadata.iloc[self.rows].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.fields[self.rows[i]]


def _split(n_train: int, n_val: int, n_test: int) -> pd.Series:
    return pd.Series(["train"] * n_train + ["val"] * n_val + ["test"] * n_test, name="split")


FAST = {"epochs": 10, "batch_size": 16, "lr_backbone": 1e-2, "lr_head": 1e-1, "resize_size": SIZE, "device": "cpu"}


@pytest.fixture(scope="module")
def fields() -> _ToyFields:
    return _ToyFields(96, seed=0)


def test_multiclass_reaches_high_f1(fields: _ToyFields) -> None:
    torch.manual_seed(0)
    result = finetune_f1(
        _TinyBackbone(), fields, label_col="Metadata_cell_line", multilabel=False, split=_split(60, 18, 18), **FAST
    )
    assert result["f1"] >= 0.9
    assert result["classes"] == sorted(LINES)
    assert (result["n_train"], result["n_val"], result["n_test"]) == (60, 18, 18)
    history = result["history"]
    assert list(history.columns) == ["epoch", "lr_head", "train_loss", "val_loss", "val_f1", "best", "seconds"]
    assert len(history) == FAST["epochs"] and history.loc[result["best_epoch"] - 1, "best"]
    assert result["best_val_f1"] == history["val_f1"].max() and history["best"].iloc[0]
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]


def test_validate_last_validates_and_keeps_only_the_last_epochs(fields: _ToyFields) -> None:
    split = _split(60, 18, 18)
    options = {**FAST, "label_col": "Metadata_cell_line", "multilabel": False, "split": split, "seed": 3}
    backbone = _TinyBackbone()
    full = finetune_f1(backbone, fields, **options)["history"]
    result = finetune_f1(backbone, fields, **options, validate_last=3)
    history = result["history"]
    assert history["val_f1"].iloc[:-3].isna().all() and not history["best"].iloc[:-3].any()
    assert result["best_epoch"] > FAST["epochs"] - 3
    # training is the same; the validated epochs score as with validation everywhere
    pd.testing.assert_series_equal(history["train_loss"], full["train_loss"])
    pd.testing.assert_series_equal(history["val_f1"].iloc[-3:], full["val_f1"].iloc[-3:])
    with pytest.raises(ValueError, match="validate_last"):
        finetune_f1(backbone, fields, **options, validate_last=0)


def test_multilabel_reaches_high_f1() -> None:
    torch.manual_seed(0)
    toy = _ToyFields(96, seed=1, multilabel=True)
    result = finetune_f1(
        _TinyBackbone(), toy, label_col="Metadata_Target", multilabel=True, split=_split(60, 18, 18), **FAST
    )
    assert result["f1"] >= 0.85
    assert result["classes"] == ["0", "1", "2"]


@pytest.mark.parametrize("frozen", [False, True], ids=["trainable", "frozen"])  # released models come frozen
def test_vit_is_trained_whole_and_input_backbone_untouched(fields: _ToyFields, frozen: bool) -> None:
    torch.manual_seed(0)
    vit = ViTBackbone(
        timm.create_model(ARCHITECTURES["vit_tiny"], num_classes=0, in_chans=2, img_size=SIZE, patch_size=8, depth=2)
    ).requires_grad_(not frozen)
    before = {k: v.clone() for k, v in vit.state_dict().items()}
    options = FAST | {"epochs": 2, "lr_backbone": 1e-3, "lr_head": 1e-2, "layer_decay": 0.75}
    train, val = _Subset(fields, range(0, 48)), _Subset(fields, range(48, 64))
    model, history = finetune_classifier(vit, train, val, label_col="Metadata_cell_line", multilabel=False, **options)
    assert all(torch.equal(before[k], v) for k, v in vit.state_dict().items())
    assert all(p.requires_grad is not frozen for p in vit.parameters())
    tuned = model.backbone.state_dict()
    for name in ("vit.patch_embed.proj.weight", "vit.blocks.0.attn.qkv.weight", "vit.blocks.1.mlp.fc2.weight"):
        assert not torch.equal(tuned[name], before[name]), name
    assert history["val_f1"].between(0, 1).all() and np.isfinite(history["train_loss"]).all()


def test_same_seed_same_model(fields: _ToyFields) -> None:
    train, val = _Subset(fields, range(0, 48)), _Subset(fields, range(48, 64))
    options = FAST | {"epochs": 2, "label_col": "Metadata_cell_line", "multilabel": False}
    backbone = _TinyBackbone()
    runs = [finetune_classifier(backbone, train, val, seed=3, **options) for _ in range(2)]
    (model_a, history_a), (model_b, history_b) = runs
    pd.testing.assert_frame_equal(history_a.drop(columns="seconds"), history_b.drop(columns="seconds"))
    assert all(
        torch.equal(a, b) for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values(), strict=True)
    )
    other, _ = finetune_classifier(backbone, train, val, seed=4, **options)
    assert not torch.equal(other.head.weight, model_a.head.weight)
    assert isinstance(model_a, FineTuneClassifier) and not model_a.training
    logits = predict_fields(model_a, val)
    assert logits.shape == (16, 3) and np.isfinite(logits).all()


def test_missing_label_column_is_named(fields: _ToyFields) -> None:
    with pytest.raises(ValueError, match="Metadata_location"):
        finetune_f1(_TinyBackbone(), fields, label_col="Metadata_location", multilabel=True, split=_split(60, 18, 18))


def test_class_without_training_example_raises(fields: _ToyFields) -> None:
    split = pd.Series(np.where(fields.metadata["Metadata_cell_line"] == "HeLa", "test", "train"))
    split.iloc[:5] = np.where(split.iloc[:5] == "test", "test", "val")
    with pytest.raises(ValueError, match=r"test class\(es\) \['HeLa'\].*no training example"):
        finetune_f1(_TinyBackbone(), fields, label_col="Metadata_cell_line", multilabel=False, split=split)
    train, val = _Subset(fields, range(0, 10)), _Subset(fields, range(10, 96))
    with pytest.raises(ValueError, match="val class"):
        finetune_classifier(_TinyBackbone(), _only(train, "0"), val, label_col="Metadata_Target", multilabel=True)


def _only(fields: _Subset, label: str) -> _Subset:
    rows = [fields.rows[i] for i in np.flatnonzero(fields.metadata["Metadata_Target"] == label)]
    return _Subset(fields.fields, rows)


def test_empty_split_and_bad_split_values_raise(fields: _ToyFields) -> None:
    with pytest.raises(ValueError, match=r"empty: \['val'\]"):
        finetune_f1(_TinyBackbone(), fields, label_col="Metadata_cell_line", multilabel=False, split=_split(78, 0, 18))
    with pytest.raises(ValueError, match=r"unknown values \['validation'\]"):
        bad = _split(60, 18, 18).replace("val", "validation")
        finetune_f1(_TinyBackbone(), fields, label_col="Metadata_cell_line", multilabel=False, split=bad)
    with pytest.raises(ValueError, match="10 rows for 96 fields"):
        finetune_f1(_TinyBackbone(), fields, label_col="Metadata_cell_line", multilabel=False, split=_split(6, 2, 2))
    with pytest.raises(ValueError, match="the val split is empty"):
        train, val = _Subset(fields, range(0, 48)), _Subset(fields, range(0, 0))
        finetune_classifier(_TinyBackbone(), train, val, label_col="Metadata_cell_line", multilabel=False)


class _Recording(_TinyBackbone):
    """Records the side of every batch it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.sides: list[int] = []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.sides.append(images.shape[-1])
        return super().forward(images)


def test_native_evaluation_sees_whole_fields_and_training_sees_crops(fields: _ToyFields) -> None:
    train, val = _Subset(fields, range(0, 48)), _Subset(fields, range(48, 64))
    options = FAST | {"epochs": 1, "resize_size": None, "crop_size": 8, "crop_scale": (0.2, 0.3)}
    model, _ = finetune_classifier(
        _Recording(), train, val, label_col="Metadata_cell_line", multilabel=False, **options
    )
    assert model.image_size is None and set(model.backbone.sides) == {8, SIZE}  # train crops, then whole fields
    model.backbone.sides.clear()
    predict_fields(model, val)
    assert set(model.backbone.sides) == {SIZE}


def test_native_evaluation_needs_a_training_crop_size(fields: _ToyFields) -> None:
    train, val = _Subset(fields, range(0, 48)), _Subset(fields, range(48, 64))
    with pytest.raises(ValueError, match="crop_size"):
        finetune_classifier(
            _TinyBackbone(), train, val, label_col="Metadata_cell_line", multilabel=False, resize_size=None
        )


def test_heldout_finetune_trains_on_the_other_groups_for_the_steps_asked(fields: _ToyFields) -> None:
    plated = _ToyFields(96, seed=0)
    plated.metadata = plated.metadata.assign(Metadata_Plate=np.repeat(["P2", "P1", "P3"], 32))
    options = {key: value for key, value in FAST.items() if key != "epochs"}
    result = heldout_finetune_f1(
        _TinyBackbone(), plated, label_col="Metadata_cell_line", group_col="Metadata_Plate", steps=30, seed=0, **options
    )
    # 64 rows of the other plates, 6 of them for validation: 58 training rows are 3 batches of 16 per epoch
    assert (result["epochs"], result["steps"]) == (10, 30)
    assert list(result["f1_by_group"]) == ["P1", "P2", "P3"] and min(result["f1_by_group"].values()) >= 0.9
    queried = heldout_finetune_f1(
        _TinyBackbone(), plated, label_col="Metadata_cell_line", group_col="Metadata_Plate", steps=1,
        query="Metadata_cell_line != 'HeLa'", seed=0, **options,
    )  # fmt: skip
    assert queried["epochs"] == 1 and set(queried["f1_by_group"]) == {"P1", "P2", "P3"}
    one = heldout_finetune_f1(
        _TinyBackbone(), plated, label_col="Metadata_cell_line", group_col="Metadata_Plate", steps=30, seed=0,
        held_out=["P2"], **options,
    )  # fmt: skip
    assert one["f1_by_group"] == {"P2": result["f1_by_group"]["P2"]}  # the same fine-tune, the others not run
    with pytest.raises(ValueError, match="it is empty"):
        heldout_finetune_f1(
            _TinyBackbone(), plated, label_col="Metadata_cell_line", group_col="Metadata_Plate", steps=1, held_out=[]
        )
    with pytest.raises(ValueError, match="Metadata_Batch"):
        heldout_finetune_f1(
            _TinyBackbone(), plated, label_col="Metadata_cell_line", group_col="Metadata_Batch", steps=1
        )
    with pytest.raises(ValueError, match="steps >= 1"):
        heldout_finetune_f1(
            _TinyBackbone(), plated, label_col="Metadata_cell_line", group_col="Metadata_Plate", steps=0
        )
