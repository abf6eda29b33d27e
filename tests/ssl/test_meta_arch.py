"""Meta-architecture: one step's losses, only non-zero losses built, teacher EMA, bag of channels."""

from __future__ import annotations

import pytest
import torch

from celldino_utils.ssl import SSLMetaArch, build_meta_arch
from celldino_utils.train import load_train_config

TINY = [
    "student.arch=vit_tiny",
    "crops.global_crops_size=32",
    "crops.local_crops_size=16",
    "dino.head_n_prototypes=64",
    "dino.head_hidden_dim=32",
    "dino.head_bottleneck_dim=16",
    "dino.head_use_bn=true",
]


def _model(*overrides: str, in_chans: int = 3) -> SSLMetaArch:
    torch.manual_seed(0)
    return build_meta_arch(load_train_config(None, [*TINY, *overrides]), in_chans=in_chans)


def _crops(batch: int = 4, channels: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(2 * batch, channels, 32, 32), torch.randn(3 * batch, channels, 16, 16)


def test_step_gives_finite_losses_and_student_gradients_only() -> None:
    model = _model()
    out = model(*_crops(), teacher_temp=0.04)
    assert set(out) == {"loss", "dino", "ibot", "koleo", "teacher_entropy"}
    assert all(torch.isfinite(v) for v in out.values())
    assert 0.0 < out["teacher_entropy"].item() <= torch.log(torch.tensor(64.0)).item() + 1e-4
    out["loss"].backward()
    assert model.student["backbone"].vit.blocks[0].attn.qkv.weight.grad is not None
    assert model.student["backbone"].mask_token.grad is not None
    assert all(p.grad is None and not p.requires_grad for p in model.teacher.parameters())


def test_losses_with_zero_weight_are_never_built() -> None:
    model = _model("dino.koleo_loss_weight=0", "ibot.loss_weight=0")
    assert set(model.losses) == {"dino"}
    assert not model.student["backbone"].mask_token.requires_grad
    assert set(model(*_crops(), teacher_temp=0.04)) == {"loss", "dino", "teacher_entropy"}
    only_ibot = _model("dino.loss_weight=0", "dino.koleo_loss_weight=0", "ibot.separate_head=true")
    assert set(only_ibot.losses) == {"ibot"} and set(only_ibot.student) == {"backbone", "ibot_head"}
    with pytest.raises(ValueError, match="loss_weight"):
        _model("dino.loss_weight=0", "ibot.loss_weight=0")


def test_teacher_starts_as_student_and_follows_the_ema() -> None:
    model = _model()
    for s, t in zip(model.student.parameters(), model.teacher.parameters(), strict=True):
        assert torch.equal(s, t)
    with torch.no_grad():
        for p in model.student.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.teacher.parameters()]
    model.update_teacher(0.75)
    for s, t, b in zip(model.student.parameters(), model.teacher.parameters(), before, strict=True):
        torch.testing.assert_close(t, 0.75 * b + 0.25 * s)


def test_teacher_has_no_stochastic_depth() -> None:
    model = _model("student.drop_path_rate=0.5")
    crops, _ = _crops()
    backbone = model.teacher["backbone"]
    with torch.no_grad():
        assert torch.equal(backbone.forward_tokens(crops), backbone.forward_tokens(crops))


@pytest.mark.parametrize("centering", ["centering", "sinkhorn_knopp"])
def test_bag_of_channels_training_step(centering: str) -> None:
    model = _model("student.channel_mode=boc", f"dino.centering={centering}", f"ibot.centering={centering}", in_chans=4)
    out = model(*_crops(channels=4), teacher_temp=0.04)
    assert torch.isfinite(out["loss"])
    out["loss"].backward()


def test_crop_size_not_multiple_of_patch_is_named() -> None:
    with pytest.raises(ValueError, match="crops.local_crops_size"):
        _model("crops.local_crops_size=20")
