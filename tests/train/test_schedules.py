"""Schedules, learning-rate scaling and optimiser parameter groups."""

from __future__ import annotations

import pytest
import torch

from celldino_utils.ssl import build_meta_arch
from celldino_utils.train import build_schedules, cosine_schedule, load_train_config, scaled_lr
from celldino_utils.train.optim import apply_schedules, build_optimizer

from .conftest import TINY_TRAIN


def test_cosine_schedule_freezes_warms_up_then_decays() -> None:
    values = cosine_schedule(1.0, 0.1, total_steps=10, warmup_steps=3, start_warmup=0.0, freeze_steps=2)
    assert values.shape == (10,) and values.dtype == torch.float64
    assert values[:2].tolist() == [0.0, 0.0]
    assert values[2:5].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert values[5].item() == pytest.approx(1.0) and values[-1].item() > 0.1
    assert torch.all(values[5:].diff() <= 0)


def test_scaling_rules() -> None:
    assert scaled_lr(5e-4, batch_size=512, rule="sqrt_wrt_1024") == pytest.approx(5e-4 * 0.5**0.5)
    assert scaled_lr(1e-3, batch_size=512, rule="linear_wrt_256") == pytest.approx(2e-3)
    with pytest.raises(ValueError, match="optim.scaling_rule"):
        scaled_lr(1e-3, batch_size=1, rule="cubic")


def test_build_schedules_teacher_temperature_and_frozen_last_layer() -> None:
    cfg = load_train_config(None, ["optim.lr=0.01", "optim.freeze_last_layer_epochs=1", "optim.warmup_epochs=1"])
    schedules = build_schedules(cfg, total_steps=100, epoch_length=4)
    assert set(schedules) == {"lr", "last_layer_lr", "weight_decay", "momentum", "teacher_temp"}
    assert schedules["last_layer_lr"][:4].eq(0).all() and schedules["last_layer_lr"][4] > 0
    assert schedules["teacher_temp"][0].item() == pytest.approx(0.04)
    assert schedules["teacher_temp"][80:].eq(0.07).all()  # warm-up of 20 epochs x 4 steps, then constant
    assert schedules["momentum"][0].item() == pytest.approx(0.996) and schedules["momentum"][-1].item() < 1.0


def test_parameter_groups_follow_dinov2_rules() -> None:
    cfg = load_train_config(None, TINY_TRAIN)
    model = build_meta_arch(cfg, in_chans=4)
    optimizer = build_optimizer(model.student, cfg.optim)
    apply_schedules(optimizer, lr=1.0, last_layer_lr=0.5, weight_decay=0.1)
    by_param = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    backbone, head = model.student["backbone"], model.student["dino_head"]
    n = len(backbone.vit.blocks)
    assert by_param[id(backbone.vit.patch_embed.proj.weight)]["lr"] == pytest.approx(0.2 * 0.9 ** (n + 1))
    assert by_param[id(backbone.vit.blocks[n - 1].mlp.fc1.weight)]["lr"] == pytest.approx(0.9)
    assert by_param[id(backbone.vit.blocks[0].mlp.fc1.bias)]["weight_decay"] == 0.0
    assert by_param[id(backbone.vit.pos_embed)]["weight_decay"] == 0.0
    assert by_param[id(head.mlp[0].weight)]["weight_decay"] == pytest.approx(0.1)
    assert by_param[id(head.last_layer.weight)]["lr"] == pytest.approx(0.5)
