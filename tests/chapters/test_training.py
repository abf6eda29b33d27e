from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from celldino_utils.chapters import knn_against_random_init
from celldino_utils.evaluate import knn_score
from celldino_utils.io import open_fields, read_profiles
from celldino_utils.models import build_backbone
from celldino_utils.synthetic import ensure_synthetic

OPTIONS = {"label_col": "Metadata_Target", "group_col": "Metadata_plate", "multilabel": True, "progress": False}


@pytest.fixture(scope="module")
def tiny_hpa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic("hpa", tmp_path_factory.mktemp("hpa") / "hpa", {"preset": "tiny"})


def _checkpoint(folder: Path, *, seed: int) -> Path:
    """A 4-channel ViT-Tiny/16 saved as our training writes it, with its weights drawn after ``seed``."""
    folder.mkdir(parents=True)
    torch.manual_seed(seed)
    model = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16, layerscale=0.0)
    torch.save({f"vit.{k}": v for k, v in model.vit.state_dict().items()}, folder / "teacher_backbone.pth")
    config = {
        "student": {"arch": "vit_tiny", "patch_size": 16, "channel_mode": "all", "in_chans": 4, "layerscale": 0.0},
        "crops": {"global_crops_size": 32},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder / "teacher_backbone.pth"


def test_a_checkpoint_equal_to_its_random_init_twin_scores_the_same(tiny_hpa: Path, tmp_path: Path) -> None:
    """Weights drawn with the twin's seed are the twin: same embeddings, same score."""
    checkpoint = _checkpoint(tmp_path / "run", seed=0)
    scores = knn_against_random_init(
        checkpoint, format="hpa-kaggle", data_dir=tiny_hpa, out_dir=tmp_path / "run", seed=0, **OPTIONS
    )
    assert list(scores["model"]) == ["trained", "random init"]
    trained, twin = (read_profiles(path) for path in scores["embeddings"])
    np.testing.assert_allclose(trained.filter(like="emb_"), twin.filter(like="emb_"), atol=1e-5)
    assert scores["knn_f1"].nunique() == 1


def test_every_field_is_embedded_by_both_models_and_scored(tiny_hpa: Path, tmp_path: Path) -> None:
    checkpoint = _checkpoint(tmp_path / "run", seed=1)
    scores = knn_against_random_init(
        checkpoint, format="hpa-kaggle", data_dir=tiny_hpa, out_dir=tmp_path / "out", seed=0, **OPTIONS
    )
    fields = open_fields("hpa-kaggle", tiny_hpa).metadata
    trained, twin = (read_profiles(path) for path in scores["embeddings"])
    for profiles in (trained, twin):
        assert list(profiles["Metadata_Id"]) == list(fields["Metadata_Id"])
    assert not np.allclose(trained.filter(like="emb_"), twin.filter(like="emb_"))
    expected = knn_score(trained, label_col="Metadata_Target", group_col="Metadata_plate", multilabel=True)
    assert scores.loc[0, "knn_f1"] == round(expected, 3)
    assert all(0.0 <= f1 <= 1.0 for f1 in scores["knn_f1"])


def test_a_checkpoint_without_its_config_is_refused(tiny_hpa: Path, tmp_path: Path) -> None:
    checkpoint = _checkpoint(tmp_path / "run", seed=0)
    (checkpoint.parent / "config.yaml").unlink()
    with pytest.raises(FileNotFoundError, match="config.yaml"):
        knn_against_random_init(checkpoint, format="hpa-kaggle", data_dir=tiny_hpa, out_dir=tmp_path, **OPTIONS)
