"""The registry of released models: names, strict local loading with clear errors, and use by name."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from celldino_utils.cli import main
from celldino_utils.embed import checkpoint_architecture, load_embedding_model
from celldino_utils.io import CELLPAINTING, HPA_KAGGLE
from celldino_utils.models import (
    RELEASED_MODELS,
    TokenFeatures,
    build_backbone,
    build_released_backbone,
    default_weights_path,
    find_released_weights,
    load_backbone_weights,
    load_released_model,
    released_models_table,
)

from .released_fixtures import case_model, official_weights, parity_cases, save_official_weights

CP_MODEL_ORDER = ("DNA", "RNA", "ER", "AGP", "Mito")


def _state_of(model: torch.nn.Module, *, chunks: int = 4) -> dict[str, torch.Tensor]:
    """A released-style state dict of ``model``: dinov2 names, blocks chunked as ``blocks.<chunk>.<i>.*``."""
    depth = len(model.vit.blocks)
    state = {}
    for key, value in model.state_dict().items():
        key = key.removeprefix("vit.")
        if key.startswith("blocks."):
            index = int(key.split(".")[1])
            key = f"blocks.{index // (depth // chunks)}.{key.split('.', 1)[1]}"
        state[key] = value.clone()
    return state


def test_every_paper_model_is_registered_with_its_architecture() -> None:
    expected = {
        "cell_dino_hpa_vitl16_cells": ("vit_large", 16, 224, 4, "all"),
        "cell_dino_hpa_vitl16_fov": ("vit_large", 16, 224, 4, "all"),
        "cell_dino_hpa_vitl14": ("vit_large", 14, 518, 4, "all"),
        "cell_dino_cp_vits8": ("vit_small", 8, 128, 5, "all"),
        "channel_adaptive_dino_vitl16": ("vit_large", 16, 224, 1, "boc"),
        "dinov2_vits14": ("vit_small", 14, 518, 3, "all"),
        "dinov2_vitl14": ("vit_large", 14, 518, 3, "all"),
    }
    for name, architecture in expected.items():
        model = RELEASED_MODELS[name]
        assert (model.arch, model.patch_size, model.img_size, model.in_chans, model.channel_mode) == architecture
        assert len(model.channels) == (0 if model.channel_mode == "boc" else model.in_chans)
        assert model.source.startswith("https://") and model.release_stems and not model.weights_file
    assert RELEASED_MODELS["cell_dino_cp_vits8"].channels == ("DNA", "RNA", "ER", "AGP", "Mito")  # DeepProfiler's
    fits = released_models_table(n_channels=5).set_index("name")["fits 5 channels"]
    assert fits[fits].index.tolist() == ["cell_dino_cp_vits8", "channel_adaptive_dino_vitl16"]
    hpa = [model for model in RELEASED_MODELS.values() if model.hub_builder == "cell_dino_hpa_vitl16"]
    assert [model.name for model in hpa] == ["cell_dino_hpa_vitl16_cells", "cell_dino_hpa_vitl16_fov"]
    assert "single cells" in hpa[0].training_data and "HPA-FoV" in hpa[1].training_data


def test_training_scale_is_declared_only_for_the_hpa_vitl16_checkpoints() -> None:
    # HPA-FoV fields are 512 px, and the single-cell checkpoint is taken at that scale; the other releases do not
    # give the size of their training fields
    hpa = ["cell_dino_hpa_vitl16_cells", "cell_dino_hpa_vitl16_fov"]
    declared = {name: model.field_px for name, model in RELEASED_MODELS.items()}
    assert declared == {name: 512 if name in hpa else None for name in RELEASED_MODELS}
    table = released_models_table().set_index("name")["field px"]
    assert (table[hpa] == 512).all() and table.drop(hpa).isna().all()
    assert checkpoint_architecture("cell_dino_hpa_vitl16_cells")["field_px"] == 512
    assert checkpoint_architecture("channel_adaptive_dino_vitl16")["field_px"] is None


def test_loading_is_frozen_and_accepts_chunked_or_plain_block_names(tmp_path: Path) -> None:
    case = parity_cases()["vit_tiny_p16_4ch"]
    chunked = load_released_model(case_model(case), weights=save_official_weights(case, tmp_path))
    assert not chunked.training and not any(p.requires_grad for p in chunked.parameters())
    plain = tmp_path / "plain.pth"
    torch.save(_state_of(chunked, chunks=len(chunked.vit.blocks)), plain)
    images = torch.randn(1, 4, 64, 64)
    assert torch.equal(chunked(images), load_released_model(case_model(case), weights=plain)(images))


def test_wrong_shaped_weights_name_the_first_mismatched_key_and_both_shapes(tmp_path: Path) -> None:
    vits8_64 = build_backbone("vit_small", in_chans=5, img_size=64, patch_size=8, layerscale=1.0)
    path = tmp_path / "vits8_64.pth"
    torch.save(_state_of(vits8_64), path)
    message = r"'pos_embed' has shape \(1, 65, 384\), the model expects \(1, 257, 384\)$"
    with pytest.raises(ValueError, match=message):
        load_released_model("cell_dino_cp_vits8", weights=path)


def test_extra_and_missing_keys_are_named(tmp_path: Path) -> None:
    case = parity_cases()["vit_tiny_p16_4ch"]
    state = official_weights(case)
    torch.save({**state, "register_tokens": torch.zeros(1, 4, 192)}, tmp_path / "extra.pth")
    with pytest.raises(ValueError, match=r"key 'register_tokens' has no counterpart"):
        load_released_model(case_model(case), weights=tmp_path / "extra.pth")
    torch.save({k: v for k, v in state.items() if k != "mask_token"}, tmp_path / "missing.pth")
    with pytest.raises(ValueError, match=r"key 'mask_token' of the model is missing from the file"):
        load_released_model(case_model(case), weights=tmp_path / "missing.pth")


def test_missing_weights_say_which_model_and_where_to_request_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CELLDINO_CHECKPOINTS", str(tmp_path))
    expected = tmp_path / "released" / "cell_dino_hpa_vitl16_fov.pth"
    assert default_weights_path(RELEASED_MODELS["cell_dino_hpa_vitl16_fov"]) == expected
    message = (
        r"weights of cell_dino_hpa_vitl16_fov not found at .*released under cell_dino_hpa_vitl16_fov.pth, or as "
        r"released: cell_dino_vitl16_pretrain_hpa_fov\[-<sha256 prefix>\].pth .*cell-dino-downloads"
    )
    with pytest.raises(FileNotFoundError, match=message):
        load_released_model("cell_dino_hpa_vitl16_fov")


def test_weights_are_read_without_unpickling_code(tmp_path: Path) -> None:
    path = tmp_path / "unsafe.pth"
    torch.save({"cls_token": torch.zeros(1), "hook": Path("/")}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_released_model("cell_dino_cp_vits8", weights=path)


def test_feature_recipes_concatenate_last_blocks_and_the_patch_mean() -> None:
    boc = build_released_backbone(case_model(parity_cases()["channel_adaptive_vit_tiny_p16"])).eval()
    images = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        cls = TokenFeatures(boc)(images)
        rich = TokenFeatures(boc, recipe="cls+patch_mean", n_last_blocks=2)
        features = rich(images)
        last_tokens = boc.forward_tokens(boc.views(images))
    assert torch.equal(cls, boc(images)) and cls.shape == (2, 3 * 192)
    assert features.shape == (2, rich.feature_dim(3)) == (2, 3 * 3 * 192)
    assert torch.allclose(features[:, 3 * 192 : 6 * 192], cls)  # class tokens of the last block come second
    assert torch.allclose(features[:, 6 * 192 :], last_tokens[:, 1:].mean(1).reshape(2, -1))
    with pytest.raises(ValueError, match="unknown feature recipe 'gap'"):
        TokenFeatures(boc, recipe="gap")


def test_names_work_where_checkpoints_are_accepted(tmp_path: Path) -> None:
    case = parity_cases()["cell_dino_cp_vits8"]
    weights = save_official_weights(case, tmp_path)
    model, info = load_embedding_model("cell_dino_cp_vits8", data_channels=CP_MODEL_ORDER, weights=weights)
    assert info["arch"] == "vit_small" and info["patch_size"] == 8 and model.pos_embed_offset == 0.1
    with pytest.raises(ValueError, match=r"cell_dino_cp_vits8 \(takes DNA, RNA, ER, AGP, Mito\): .* missing \['DNA'"):
        load_embedding_model("cell_dino_cp_vits8", data_channels=HPA_KAGGLE.channels, weights=weights)
    with pytest.raises(ValueError, match=r"takes the channels in the order \['DNA', 'RNA', 'ER', 'AGP', 'Mito'\]"):
        load_embedding_model("cell_dino_cp_vits8", data_channels=CELLPAINTING.channels, weights=weights)
    with pytest.raises(ValueError, match=r"takes its architecture from its name; drop \['patch_size'\]"):
        load_embedding_model("cell_dino_cp_vits8", data_channels=CP_MODEL_ORDER, weights=weights, patch_size=16)


def test_training_starts_from_a_released_model_by_name(tmp_path: Path, monkeypatch) -> None:
    """``student.init=dinov2_vits14``: the RGB ViT-S/14 grid and patch embedding adapted to a 4-channel model."""
    dinov2 = build_released_backbone(RELEASED_MODELS["dinov2_vits14"])
    (tmp_path / "released").mkdir()
    torch.save(_state_of(dinov2, chunks=len(dinov2.vit.blocks)), tmp_path / "released" / "dinov2_vits14_pretrain.pth")
    monkeypatch.setenv("CELLDINO_CHECKPOINTS", str(tmp_path))
    student = build_backbone("vit_small", in_chans=4, img_size=56, patch_size=14, layerscale=1.0)
    load_backbone_weights(student, "dinov2_vits14")
    assert torch.equal(student.vit.blocks[3].mlp.fc1.weight, dinov2.vit.blocks[3].mlp.fc1.weight)
    assert student.vit.pos_embed.shape == (1, 1 + 4 * 4, 384)


def test_models_command_lists_the_registry(capsys) -> None:
    assert main(["models"]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in RELEASED_MODELS)


def test_weights_are_found_at_the_given_path_or_the_default_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CELLDINO_CHECKPOINTS", raising=False)
    monkeypatch.setenv("CELLDINO_DATA_ROOT", str(tmp_path))
    assert find_released_weights("cell_dino_cp_vits8") is None
    default = tmp_path / "checkpoints" / "released" / "cell_dino_cp_vits8.pth"
    default.parent.mkdir(parents=True)
    default.write_bytes(b"")
    assert find_released_weights("cell_dino_cp_vits8") == default
    with pytest.raises(FileNotFoundError, match=r"weights of cell_dino_cp_vits8 not found at .*elsewhere.pth"):
        find_released_weights("cell_dino_cp_vits8", tmp_path / "elsewhere.pth")
