"""Weights files as released: found under their release names, hash suffixes checked, wrong files named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from celldino_utils.cli import main
from celldino_utils.embed import load_embedding_model, resolve_checkpoint
from celldino_utils.io.channels import HPA_FOV
from celldino_utils.models import (
    RETIRED_NAMES,
    find_released_weights,
    get_released_model,
    load_released_model,
    state_architecture,
)

from .released_fixtures import official_inputs, official_weights, parity_cases, save_official_weights

CP_STEM = "cell_dino_vits8_pretrain_cp"


@pytest.fixture
def released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``released/`` folder that the registry looks in."""
    monkeypatch.setenv("CELLDINO_CHECKPOINTS", str(tmp_path))
    (tmp_path / "released").mkdir()
    return tmp_path / "released"


def _as_released(path: Path, stem: str, *, prefix: str | None = None) -> Path:
    """``path`` renamed to ``<stem>-<prefix>.pth``, by default with the first 8 hex digits of its SHA-256."""
    prefix = prefix or hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    return path.rename(path.with_name(f"{stem}-{prefix}.pth"))


def test_a_checkpoint_under_its_release_name_is_found_and_loaded(released: Path, capsys) -> None:
    case = parity_cases()["cell_dino_cp_vits8"]
    file = _as_released(save_official_weights(case, released), CP_STEM)
    assert find_released_weights("cell_dino_cp_vits8") == file
    model = load_released_model("cell_dino_cp_vits8")
    images = official_inputs(case, case["img_size"])
    with torch.inference_mode():
        cls = model(images)
    assert (cls - torch.tensor(case["outputs"][0]["cls"])).abs().max().item() <= 1e-5
    assert main(["models"]) == 0
    assert f"weights: {file} (found)" in capsys.readouterr().out


def test_a_wrong_hash_suffix_is_refused_with_both_prefixes(released: Path) -> None:
    case = parity_cases()["cell_dino_cp_vits8"]
    saved = save_official_weights(case, released)
    actual = hashlib.sha256(saved.read_bytes()).hexdigest()[:8]
    wrong = "0" * 8 if actual != "0" * 8 else "1" * 8
    file = _as_released(saved, CP_STEM, prefix=wrong)
    message = rf"{file}: the hash suffix of its name expects SHA-256 {wrong}\.\.\., the file's is {actual}\.\.\."
    with pytest.raises(ValueError, match=message):
        load_released_model("cell_dino_cp_vits8")
    with pytest.raises(ValueError, match=message):  # a file given by path is checked the same way
        load_embedding_model("cell_dino_cp_vits8", data_channels=("DNA", "RNA", "ER", "AGP", "Mito"), weights=file)


def test_two_files_named_for_one_model_are_both_named(released: Path) -> None:
    (released / "cell_dino_cp_vits8.pth").write_bytes(b"one")
    (released / f"{CP_STEM}-37d20e9c.pth").write_bytes(b"two")
    (released / "dinov2_vits14_pretrain.pth").write_bytes(b"another model's")
    message = rf"2 files in {released} are named for it \(cell_dino_cp_vits8.pth, {CP_STEM}-37d20e9c.pth\)"
    with pytest.raises(ValueError, match=message):
        find_released_weights("cell_dino_cp_vits8")
    assert find_released_weights("dinov2_vits14") == released / "dinov2_vits14_pretrain.pth"


def test_the_other_hpa_checkpoint_is_refused_by_its_name(tmp_path: Path) -> None:
    """The single-cell and HPA-FoV files have tensors of the same shapes: their names tell them apart."""
    fov = tmp_path / "cell_dino_vitl16_pretrain_hpa_fov-0123abcd.pth"
    fov.write_bytes(b"never read")
    message = r"named as the weights of cell_dino_hpa_vitl16_fov, not of cell_dino_hpa_vitl16_cells"
    with pytest.raises(ValueError, match=message):
        load_released_model("cell_dino_hpa_vitl16_cells", weights=fov)
    with pytest.raises(ValueError, match=message):
        find_released_weights("cell_dino_hpa_vitl16_cells", fov)


def test_a_file_of_another_architecture_names_the_model_it_fits(tmp_path: Path) -> None:
    case = parity_cases()["cell_dino_cp_vits8"]
    weights = save_official_weights(case, tmp_path).rename(tmp_path / "downloaded.pth")  # a name of no model
    found = state_architecture(official_weights(case))
    assert (found.patch_size, found.in_chans, found.depth, found.width) == (8, 5, 12, 384)
    message = (
        r"the file holds a ViT of width 384 and depth 12 with 8 px patches over 5 channels; cell_dino_hpa_vitl16_fov "
        r"is a ViT of width 1024 and depth 24 with 16 px patches over 4 channels: it fits cell_dino_cp_vits8$"
    )
    with pytest.raises(ValueError, match=message):
        load_released_model("cell_dino_hpa_vitl16_fov", weights=weights)
    tiny = save_official_weights(parity_cases()["vit_tiny_p16_4ch"], tmp_path)
    with pytest.raises(ValueError, match=r"over 4 channels; .* no released model fits it"):
        load_released_model("cell_dino_cp_vits8", weights=tiny)


def test_the_builder_name_is_retired_naming_both_checkpoints(tmp_path: Path) -> None:
    expected = r"cell_dino_hpa_vitl16_cells \(HPA single cells.*cell_dino_hpa_vitl16_fov \(HPA-FoV"
    with pytest.raises(ValueError, match=rf"'cell_dino_hpa_vitl16' is the official builder .*{expected}"):
        get_released_model("cell_dino_hpa_vitl16")
    with pytest.raises(ValueError, match=expected):  # as a checkpoint parameter
        load_embedding_model(resolve_checkpoint("cell_dino_hpa_vitl16"), data_channels=HPA_FOV.channels)
    card = tmp_path / "card.yaml"
    card.write_text("like: cell_dino_hpa_vitl16\nweights: w.pth\n")
    with pytest.raises(ValueError, match=rf"{card}: 'like: cell_dino_hpa_vitl16' is the official builder"):
        get_released_model(card)
    assert set(RETIRED_NAMES) == {"cell_dino_hpa_vitl16"}
