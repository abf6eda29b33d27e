"""Training loop: exact resume, outputs, derived config keys, loading our own checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from celldino_utils.io import HPA_KAGGLE
from celldino_utils.models import build_backbone, load_backbone_weights
from celldino_utils.train import (
    BACKBONE_NAME,
    CHECKPOINT_NAME,
    LOG_NAME,
    load_train_config,
    read_log,
    resolve_config,
    train,
    training_backbones,
)
from celldino_utils.train.data import MultiCropDataset, build_augmentation
from celldino_utils.train.loop import training_images

from .conftest import TINY_TRAIN, TinyFields


def _train(tiny_fields: TinyFields, out_dir: Path, *overrides: str) -> Path:
    return train(load_train_config(None, [*TINY_TRAIN, f"train.out_dir={out_dir}", *overrides]), dataset=tiny_fields)


def test_interrupted_and_resumed_training_equals_uninterrupted(tmp_path: Path) -> None:
    # 6 images / batch 2 = 3 steps per data epoch: the run stops mid-epoch and resumes across an epoch boundary.
    options = ("train.checkpoint_period=100", "train.batch_size_per_gpu=2", "train.epoch_length=4")
    fields = TinyFields(6)
    whole = _train(fields, tmp_path / "whole", *options)
    _train(fields, tmp_path / "split", *options, "train.stop_at_step=2")
    assert torch.load(tmp_path / "split" / CHECKPOINT_NAME, weights_only=True)["step"] == 2
    split = _train(fields, tmp_path / "split", *options)
    a = torch.load(whole / CHECKPOINT_NAME, weights_only=True)
    b = torch.load(split / CHECKPOINT_NAME, weights_only=True)
    assert a["step"] == b["step"] == 4
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for state_a, state_b in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True):
        assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    log_a, log_b = read_log(whole / LOG_NAME), read_log(split / LOG_NAME)
    columns = ["step", "loss", "dino", "ibot", "koleo", "teacher_entropy", "lr", "momentum"]
    assert log_a[columns].equals(log_b[columns]) and len(log_b) == 4


def test_outputs_are_written_and_our_checkpoints_load_as_backbones(tmp_path: Path, tiny_fields: TinyFields) -> None:
    out = _train(
        tiny_fields, tmp_path, "train.epoch_length=2", "train.batch_size_per_gpu=2", "student.channel_mode=boc"
    )
    assert {p.name for p in out.iterdir()} >= {"config.yaml", LOG_NAME, CHECKPOINT_NAME, BACKBONE_NAME}
    log = read_log(out / LOG_NAME)
    assert len(log) == 2 and {"teacher_entropy", "log_n_prototypes", "lr", "teacher_temp"} <= set(log.columns)
    state = torch.load(out / CHECKPOINT_NAME, weights_only=True)["model"]
    key = "blocks.0.attn.qkv.weight"
    for branch in ("teacher", "student"):
        model = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16, channel_mode="boc", layerscale=1e-5)
        load_backbone_weights(model, out / CHECKPOINT_NAME, branch=branch)
        torch.testing.assert_close(model.vit.get_parameter(key), state[f"{branch}.backbone.vit.{key}"])
    assert model.channel_mode == "boc" and model(torch.rand(1, 3, 32, 32)).shape == (1, 3 * 192)
    exported = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16, channel_mode="boc", layerscale=1e-5)
    load_backbone_weights(exported, out / BACKBONE_NAME)
    torch.testing.assert_close(exported.vit.get_parameter(key), state[f"teacher.backbone.vit.{key}"])


def test_kept_backbones_are_the_teacher_of_their_step_and_a_new_run_replaces_them(
    tmp_path: Path, tiny_fields: TinyFields
) -> None:
    options = ("train.epoch_length=5", "train.batch_size_per_gpu=2", "train.keep_backbone_every=2")
    stopped = _train(tiny_fields, tmp_path / "stopped", *options, "train.stop_at_step=2")
    step_2 = torch.load(stopped / "teacher_backbone_step000002.pth", weights_only=True)
    teacher = torch.load(stopped / CHECKPOINT_NAME, weights_only=True)["model"]
    key = "vit.blocks.0.attn.qkv.weight"
    torch.testing.assert_close(step_2[key], teacher[f"teacher.backbone.{key}"])  # the teacher of step 2
    out = _train(tiny_fields, tmp_path / "stopped", *options)  # resumed to the end
    backbones = training_backbones(out / BACKBONE_NAME)
    assert list(backbones) == [2, 4, 5] and backbones[5] == out / BACKBONE_NAME
    torch.testing.assert_close(torch.load(backbones[2], weights_only=True)[key], step_2[key])
    _train(tiny_fields, out, "train.epoch_length=3", "train.batch_size_per_gpu=2", "train.resume=false")
    assert list(training_backbones(out / BACKBONE_NAME)) == [3]  # another run: the old ones are gone
    assert training_backbones("cell_dino_hpa_vitl16_fov") == {} == training_backbones(tmp_path / "missing.pth")


def test_resolve_config_sets_derived_keys(tiny_fields: TinyFields) -> None:
    cfg = load_train_config(None, [*TINY_TRAIN, "train.epoch_length=null", "optim.base_lr=1e-3"])
    resolved = resolve_config(cfg, dataset=tiny_fields, world_size=2)
    assert resolved.student.in_chans == 4 and resolved.augment.protein_index == 1
    assert list(resolved.data.channels) == list(HPA_KAGGLE.channels)  # recorded: embedding feeds this order
    reordered = load_train_config(None, ["data.channels=[protein,microtubules,nucleus,er]"])
    with pytest.raises(ValueError, match=r"data.channels: \['protein', 'microtubules', 'nucleus', 'er'\], but"):
        resolve_config(reordered, dataset=tiny_fields, world_size=1)  # images given in another order
    assert resolved.data.field_px == 40  # the training scale: the fields' shorter side
    given = resolve_config(load_train_config(None, ["data.field_px=512"]), dataset=tiny_fields, world_size=1)
    assert given.data.field_px == 512  # a scale set in the config is kept
    assert resolved.train.epoch_length == 1  # 12 images, global batch 8
    assert resolved.optim.lr == pytest.approx(1e-3 * (8 / 1024) ** 0.5)
    assert cfg.optim.lr == 0.0 and cfg.data.field_px is None  # the input is not modified
    with pytest.raises(ValueError, match="augment.protein_index"):
        resolve_config(load_train_config(None, ["augment.protein_index=7"]), dataset=tiny_fields, world_size=1)


def test_batch_larger_than_data_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="train.batch_size_per_gpu"):
        _train(TinyFields(3), tmp_path)


def test_crops_depend_on_seed_epoch_and_index_only(tiny_fields: TinyFields) -> None:
    cfg = resolve_config(load_train_config(None, TINY_TRAIN), dataset=tiny_fields, world_size=1)
    dataset = MultiCropDataset(tiny_fields, build_augmentation(cfg), seed=0)
    first = dataset[3]["global_crops"][0]
    _ = dataset[5]
    assert torch.equal(dataset[3]["global_crops"][0], first)
    dataset.set_epoch(1)
    assert not torch.equal(dataset[3]["global_crops"][0], first)


def test_a_run_trains_on_single_cells_at_the_cell_level(cellpainting_dir: Path) -> None:
    """``data.level: cell`` gives one crop per nucleus; the training scale stays the fields' side."""
    options = [f"data.path={cellpainting_dir}", "data.format=cellpainting"]
    cells = training_images(load_train_config(None, [*options, "data.level=cell", "data.cell_crop_size=16"]).data)
    fields = training_images(load_train_config(None, options).data)
    assert len(cells) == 4 and tuple(cells[0].shape) == (5, 16, 16) and len(fields) == 2
    assert resolve_config(load_train_config(None, TINY_TRAIN), dataset=cells, world_size=1).data.field_px == 24
    deepprofiler = training_images(load_train_config(None, [*options, "data.channels=[DNA,RNA,ER,AGP,Mito]"]).data)
    assert deepprofiler.layout.channels == ("DNA", "RNA", "ER", "AGP", "Mito")  # a run may take another order
    assert torch.equal(deepprofiler[1], fields[1][[0, 2, 1, 3, 4]])
    with pytest.raises(ValueError, match="data.cell_crop_size"):
        training_images(load_train_config(None, [*options, "data.level=cell"]).data)
    with pytest.raises(ValueError, match="data.level must be"):
        training_images(load_train_config(None, [*options, "data.level=well"]).data)
