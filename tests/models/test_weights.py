"""Loading foreign checkpoints: dinov2/Cell-DINO formats, grid and channel adaptation, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import timm
import torch
from timm.layers import resample_abs_pos_embed
from timm.models import adapt_input_conv

from celldino_utils.models import build_backbone, extract_backbone_state, load_backbone_weights


def _source_vit(*, in_chans: int = 3, img_size: int = 32, patch_size: int = 8, arch: str = "vit_tiny_patch16_224"):
    torch.manual_seed(1)
    vit = timm.create_model(
        arch,
        pretrained=False,
        num_classes=0,
        in_chans=in_chans,
        img_size=img_size,
        patch_size=patch_size,
        init_values=1e-5,
    )
    with torch.no_grad():  # timm zero-initialises some tensors; make every weight informative
        for param in vit.parameters():
            param.add_(0.02 * torch.randn_like(param))
    return vit.eval()


def _dinov2_training_checkpoint(vit, *, chunked: bool = False) -> dict:
    """A dinov2 / Cell-DINO training checkpoint: ``model`` with student and teacher, DDP ``module.`` prefix, heads."""
    state = {}
    for key, value in vit.state_dict().items():
        if chunked and key.startswith("blocks."):
            index = int(key.split(".")[1])
            key = f"blocks.{index // 6}.{key.split('.', 1)[1]}"  # dinov2 BlockChunk: blocks.<chunk>.<i>.*
        state[f"module.teacher.backbone.{key}"] = value.clone()
        state[f"module.student.backbone.{key}"] = torch.zeros_like(value)
    state["module.teacher.backbone.mask_token"] = torch.randn(1, vit.embed_dim)
    state["module.teacher.dino_head.last_layer.weight_v"] = torch.randn(8, 4)
    return {"model": state, "iteration": 10}


def _save(tmp_path: Path, checkpoint: dict) -> Path:
    path = tmp_path / "ckpt.pth"
    torch.save(checkpoint, path)
    return path


@pytest.mark.parametrize("chunked", [False, True])
def test_dinov2_checkpoint_gives_source_outputs_when_shapes_agree(tmp_path: Path, chunked: bool) -> None:
    vit = _source_vit()
    path = _save(tmp_path, _dinov2_training_checkpoint(vit, chunked=chunked))
    model = build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=8, layerscale=1e-5).eval()
    load_backbone_weights(model, path)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(images), vit(images))
    assert not torch.equal(model.mask_token, torch.zeros_like(model.mask_token))


def test_other_grid_and_channel_count_are_resampled_and_adapted(tmp_path: Path) -> None:
    vit = _source_vit(img_size=48)  # 6 x 6 patches, RGB
    state = {f"teacher.backbone.{k}": v for k, v in vit.state_dict().items()}
    path = _save(tmp_path, state)
    model = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=8, layerscale=1e-5).eval()
    load_backbone_weights(model, path)
    expected_pos = resample_abs_pos_embed(vit.pos_embed.detach(), new_size=[4, 4], old_size=[6, 6], num_prefix_tokens=1)
    torch.testing.assert_close(model.vit.pos_embed.detach(), expected_pos)
    expected_conv = adapt_input_conv(4, vit.patch_embed.proj.weight.detach(), base_chans=3)
    torch.testing.assert_close(model.vit.patch_embed.proj.weight.detach(), expected_conv)
    torch.testing.assert_close(model.vit.blocks[3].mlp.fc1.weight, vit.blocks[3].mlp.fc1.weight)
    with torch.no_grad():
        assert torch.isfinite(model(torch.randn(2, 4, 32, 32))).all()


def test_rgb_weights_into_bag_of_channels_sum_the_colours(tmp_path: Path) -> None:
    vit = _source_vit()
    path = _save(tmp_path, {"teacher": {f"backbone.{k}": v for k, v in vit.state_dict().items()}})
    model = build_backbone("vit_tiny", in_chans=5, img_size=32, patch_size=8, channel_mode="boc", layerscale=1e-5)
    load_backbone_weights(model, path)
    expected = vit.patch_embed.proj.weight.detach().sum(dim=1, keepdim=True)
    torch.testing.assert_close(model.vit.patch_embed.proj.weight.detach(), expected)


def test_bare_hub_style_state_dict_loads() -> None:
    vit = _source_vit()
    state = extract_backbone_state({k: v for k, v in vit.state_dict().items()})
    assert "blocks.0.attn.qkv.weight" in state and "pos_embed" in state


def test_embedding_width_mismatch_names_the_key(tmp_path: Path) -> None:
    vit = _source_vit(arch="vit_small_patch16_224")
    path = _save(tmp_path, vit.state_dict())
    model = build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=8, layerscale=1e-5)
    with pytest.raises(ValueError, match=r"ckpt.pth: key 'cls_token' has shape \(1, 1, 384\)"):
        load_backbone_weights(model, path)


def test_patch_size_mismatch_names_the_patch_embedding(tmp_path: Path) -> None:
    path = _save(tmp_path, _source_vit(patch_size=16).state_dict())
    model = build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=8, layerscale=1e-5)
    with pytest.raises(ValueError, match="patch_embed.proj.weight"):
        load_backbone_weights(model, path)


def test_missing_layerscale_and_unknown_keys_are_named(tmp_path: Path) -> None:
    path = _save(tmp_path, _source_vit().state_dict())
    without_layerscale = build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=8)
    with pytest.raises(ValueError, match=r"blocks\.0\.ls1\.gamma"):
        load_backbone_weights(without_layerscale, path)
    state = _source_vit().state_dict() | {"register_tokens": torch.zeros(1, 4, 192)}
    model = build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=8, layerscale=1e-5)
    with pytest.raises(ValueError, match="register_tokens"):
        load_backbone_weights(model, _save(tmp_path, state))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    model = build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=8)
    with pytest.raises(FileNotFoundError, match="nothing.pth"):
        load_backbone_weights(model, tmp_path / "nothing.pth")
