"""The compute curve: every backbone a run kept is embedded and scored, beside the levels of chapter 02."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from celldino_utils.chapters import CurveScore, EmbedJob, compute_curve, embed_suite, supervised_reference
from celldino_utils.io.profiles import profile_path
from celldino_utils.models import build_backbone
from celldino_utils.plot import plot_compute_curve
from celldino_utils.synthetic import ensure_synthetic


@pytest.fixture(scope="module")
def tiny_hpa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic("hpa", tmp_path_factory.mktemp("hpa") / "hpa", {"preset": "tiny"})


def _backbone(path: Path, *, seed: int) -> None:
    torch.manual_seed(seed)
    model = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16, layerscale=0.0)
    torch.save({f"vit.{k}": v for k, v in model.vit.state_dict().items()}, path)


def _run(folder: Path) -> Path:
    """A 4-step run as our training leaves it: config, the backbone kept at step 2 (the random-init twin's weights)
    and a final one."""
    folder.mkdir(parents=True)
    config = {
        "student": {"arch": "vit_tiny", "patch_size": 16, "channel_mode": "all", "in_chans": 4, "layerscale": 0.0},
        "crops": {"global_crops_size": 32},
        "optim": {"epochs": 2},
        "train": {"epoch_length": 2},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    _backbone(folder / "teacher_backbone_step000002.pth", seed=0)
    _backbone(folder / "teacher_backbone.pth", seed=1)
    return folder / "teacher_backbone.pth"


def _first_feature_mean(profiles: pd.DataFrame) -> float:
    return float(profiles["emb_0000"].mean())


def test_kept_backbones_are_embedded_and_scored_beside_the_levels(tiny_hpa: Path, tmp_path: Path) -> None:
    job = EmbedJob("hpa", "fov", "hpa-kaggle", tiny_hpa, _run(tmp_path / "run"))
    embed_suite([job], out_dir=tmp_path / "emb", seed=0, progress=False)  # chapter 02: final model and random init
    score = CurveScore("first feature", job, _first_feature_mean)
    curve = compute_curve([score], embeddings_dir=tmp_path / "emb", out_dir=tmp_path / "curve", seed=0, progress=False)
    trained = curve[curve["features"] == "celldino"]
    assert list(trained["step"]) == [2.0, 4.0]
    assert trained["file"].iloc[1] == str(
        profile_path(tmp_path / "emb", dataset="hpa", level="fov", features="celldino")
    )
    assert Path(trained["file"].iloc[0]).parent == tmp_path / "curve"
    level = curve[curve["features"] == "random"]
    assert level["step"].isna().all() and list(level["model"]) == ["random"]
    # the backbone kept at step 2 holds the twin's weights: it embeds what the random-init level embedded
    assert trained["value"].iloc[0] == pytest.approx(level["value"].iloc[0], abs=1e-5)
    assert trained["value"].iloc[1] != pytest.approx(level["value"].iloc[0], abs=1e-3)
    assert "cellprofiler" not in set(curve["features"])  # a level without its file has no row
    figure = plot_compute_curve(curve, names={"random": "ViT random init"})
    assert [line.get_label() for line in figure.axes[0].lines][:1] == ["celldino"]


def test_a_released_model_is_its_own_end_point_and_missing_embeddings_are_named(tmp_path: Path) -> None:
    final = profile_path(tmp_path, dataset="hpa", level="fov", features="celldino")
    job = EmbedJob("hpa", "fov", "hpa-fov", tmp_path, "cell_dino_hpa_vitl16_fov")
    score = CurveScore("first feature", job, _first_feature_mean)
    with pytest.raises(FileNotFoundError, match="hpa_fov_celldino.parquet"):
        compute_curve([score], embeddings_dir=tmp_path, out_dir=tmp_path / "curve")
    pd.DataFrame({"Metadata_Id": ["a", "b"], "emb_0000": [1.0, 3.0]}).to_parquet(final)
    curve = compute_curve([score], embeddings_dir=tmp_path, out_dir=tmp_path / "curve")
    assert len(curve) == 1 and np.isnan(curve["step"].iloc[0]) and curve["value"].iloc[0] == 2.0
    assert curve["model"].iloc[0] == "cell_dino_hpa_vitl16_fov"
    figure = plot_compute_curve(curve)
    assert "levels only" in figure.axes[0].get_xlabel()


def test_supervised_reference_needs_a_step_count(tmp_path: Path) -> None:
    released = EmbedJob("cp", "cell", "cellpainting", tmp_path, "cell_dino_cp_vits8")
    options = {"label_col": "Metadata_moa", "group_col": "Metadata_Plate"}
    for job, steps in ((released, None), (dataclasses.replace(released, checkpoint=_run(tmp_path / "run")), 0)):
        row = supervised_reference("score", job, steps=steps, **options)
        assert row.empty and list(row.columns) == ["score", "features", "step", "value", "data", "model", "file"]
