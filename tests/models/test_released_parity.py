"""Released models by name give the official Cell-DINO embeddings, at the native size and at another one.

The ViT-L cases load about 300 M parameters each and run in well under a minute on two cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from celldino_utils.embed import load_embedding_model, resolve_checkpoint
from celldino_utils.io import HPA_FOV
from celldino_utils.models import TokenFeatures, get_released_model, load_released_model

from .released_fixtures import case_model, official_inputs, parity_cases, save_official_weights

TOLERANCE = 1e-5  # max abs difference allowed against the official code


@pytest.mark.parametrize("name", list(parity_cases()))
def test_released_model_matches_the_official_code_at_every_size(name: str, tmp_path: Path) -> None:
    case = parity_cases()[name]
    weights = save_official_weights(case, tmp_path)
    model = load_released_model(case_model(case), weights=weights)
    features = TokenFeatures(model, recipe="cls+patch_mean")
    dim = model.embedding_dim(case["input_channels"])
    smallest = min(expected["size"] for expected in case["outputs"])
    for expected in case["outputs"]:
        images = official_inputs(case, expected["size"])
        with torch.inference_mode():
            cls, patch_mean = features(images).split(dim, dim=1)
            if expected["size"] == smallest:  # once per model: a ViT-L forward pass costs seconds
                assert torch.equal(model(images), cls), "forward() is the class token after the final norm"
        for got, key in ((cls, "cls"), (patch_mean, "patch_mean")):
            error = (got - torch.tensor(expected[key])).abs().max().item()
            assert error <= TOLERANCE, f"{name} at {expected['size']} px: {key} differs by {error:.2e}"
        del images


def test_timm_resampling_would_not_match_at_another_size(tmp_path: Path) -> None:
    """The check above can fail: timm's own resampling of the position grid is off by about 1e-3."""
    case = parity_cases()["vit_tiny_p16_4ch"]
    model = load_released_model(case_model(case), weights=save_official_weights(case, tmp_path))
    native, other = case["outputs"]
    model.pos_embed_offset = None
    with torch.inference_mode():
        same = (model(official_inputs(case, native["size"])) - torch.tensor(native["cls"])).abs().max().item()
        off = (model(official_inputs(case, other["size"])) - torch.tensor(other["cls"])).abs().max().item()
    assert same <= TOLERANCE and off > 100 * TOLERANCE


def test_a_model_card_gives_the_official_embeddings_through_the_embedding_loader(tmp_path: Path) -> None:
    """A card (``like`` + the fields that differ + ``weights``) is accepted wherever a released name is."""
    case = parity_cases()["vit_tiny_p16_4ch"]
    save_official_weights(case, tmp_path)
    card = tmp_path / "hpa_vitt16.yaml"
    card.write_text(
        "like: cell_dino_hpa_vitl16_fov\narch: vit_tiny\nimg_size: 64\nweights: vit_tiny_p16_4ch.pth\n"
        "training_data: parity-rule weights\n"
    )
    model, info = load_embedding_model(resolve_checkpoint(card), data_channels=HPA_FOV.channels)
    assert info["arch"] == "vit_tiny" and info["field_px"] == 512, "fields not on the card come from 'like'"
    for expected in case["outputs"]:
        with torch.inference_mode():
            cls = model(official_inputs(case, expected["size"]))
        assert (cls - torch.tensor(expected["cls"])).abs().max().item() <= TOLERANCE


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("arch: vit_tiny\nweights: w.pth\n", r"lacks \['like'\]"),
        ("like: cell_dino_hpa_vitl99\nweights: w.pth\n", "is not a released model"),
        ("like: cell_dino_hpa_vitl16_fov\nweights: w.pth\nlayers: 3\n", r"unknown model card key\(s\) \['layers'\]"),
    ],
)
def test_a_wrong_model_card_is_refused_naming_the_key(card: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(card)
    with pytest.raises(ValueError, match=message):
        get_released_model(path)
