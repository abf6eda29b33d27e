"""Backbones: timm ViT forward shapes, bag of channels, configuration errors."""

from __future__ import annotations

import pytest
import torch

from celldino_utils.models import BagOfChannels, ViTBackbone, build_backbone


@pytest.mark.parametrize("channel_mode", ["all", "boc"])
def test_forward_randn_has_expected_shape_and_no_nan(channel_mode: str) -> None:
    model = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16, channel_mode=channel_mode).eval()
    with torch.no_grad():
        embedding = model(torch.randn(2, 4, 32, 32))
    expected = 192 if channel_mode == "all" else 4 * 192
    assert embedding.shape == (2, expected) == (2, model.embedding_dim(4))
    assert torch.isfinite(embedding).all()


def test_forward_tokens_accepts_other_sizes_and_masks() -> None:
    model = build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=8).eval()
    masks = torch.zeros(2, 4, dtype=torch.bool)
    masks[0, 1] = True
    with torch.no_grad():
        tokens = model.forward_tokens(torch.randn(2, 3, 16, 16), masks=masks)
        unmasked = model.forward_tokens(torch.randn(2, 3, 16, 16))
    assert tokens.shape == unmasked.shape == (2, 1 + 4, 192)
    with pytest.raises(ValueError, match="masks"):
        model.forward_tokens(torch.randn(2, 3, 16, 16), masks=torch.zeros(2, 5, dtype=torch.bool))


@pytest.mark.parametrize("n_channels", [1, 3, 5])
def test_bag_of_channels_embeds_any_channel_count_as_c_times_d(n_channels: int) -> None:
    model = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16, channel_mode="boc").eval()
    assert isinstance(model, BagOfChannels) and model.in_chans == 1
    images = torch.randn(2, n_channels, 32, 32)
    with torch.no_grad():
        embedding = model(images)
        per_channel = model.forward_tokens(images[:, -1:])[:, 0]
    assert embedding.shape == (2, n_channels * 192)
    torch.testing.assert_close(embedding[:, -192:], per_channel)  # channel c holds the class token of channel c


def test_bag_of_channels_and_all_modes_share_state_dict_keys() -> None:
    boc = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16, channel_mode="boc")
    single = build_backbone("vit_tiny", in_chans=1, img_size=32, patch_size=16)
    assert isinstance(single, ViTBackbone) and set(boc.state_dict()) == set(single.state_dict())


def test_wrong_channel_count_is_an_error_naming_the_shape() -> None:
    model = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16)
    with pytest.raises(ValueError, match=r"images: expected shape \(B, 4, H, W\)"):
        model(torch.randn(1, 3, 32, 32))


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"arch": "vit_huge_typo"}, "arch"),
        ({"img_size": 30}, "img_size"),
        ({"channel_mode": "some"}, "channel_mode"),
        ({"in_chans": 0}, "in_chans"),
        ({"depth": 0}, "depth"),
    ],
)
def test_bad_configuration_names_the_key(kwargs: dict, key: str) -> None:
    options = {"arch": "vit_tiny", "in_chans": 4, "img_size": 32, "patch_size": 16} | kwargs
    with pytest.raises(ValueError, match=key):
        build_backbone(options.pop("arch"), **options)


def test_depth_sets_the_number_of_blocks() -> None:
    assert len(build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=16, depth=4).vit.blocks) == 4
    assert len(build_backbone("vit_tiny", in_chans=3, img_size=32, patch_size=16).vit.blocks) == 12
