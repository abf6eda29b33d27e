"""Tests of the embedding chapter's helpers on fixtures in the real layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from celldino_utils.chapters import crops_as_embedded, job_of, learnability_margin


def test_crops_as_embedded_are_self_normalised_cells_per_group(phenix_dir: Path) -> None:
    crops, labels = crops_as_embedded(
        "cellpainting", phenix_dir, crop_size=16, label_col="Metadata_Well", n_per_group=2, seed=0
    )
    per_well = pd.read_csv(phenix_dir / "nuclei.csv").groupby("Metadata_Well").size()
    assert crops.shape == (len(per_well), 2, 5, 16, 16) and labels == sorted(per_well.index)
    np.testing.assert_allclose(crops.mean(axis=(-2, -1)), 0.0, atol=1e-4)
    np.testing.assert_allclose(crops.std(axis=(-2, -1)), 1.0, atol=1e-3)
    too_many = int(per_well.max()) + 1
    with pytest.raises(ValueError, match=rf"Metadata_Well='.*' has \d+ cells, need {too_many}"):
        crops_as_embedded("cellpainting", phenix_dir, crop_size=16, label_col="Metadata_Well", n_per_group=too_many)


def test_learnability_margin_reads_the_supervised_and_random_points_of_one_score() -> None:
    curve = pd.DataFrame(
        {
            "score": ["cells", "cells", "cells", "wells"],
            "features": ["supervised", "random", "celldino", "random"],
            "value": [0.40, 0.25, 0.30, 0.2],
        }
    )
    assert learnability_margin(curve, "cells") == pytest.approx(0.15)
    assert learnability_margin(curve, "wells") is None


def test_a_job_from_parameters_resolves_its_folder_and_keeps_released_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELLDINO_ROOT", str(tmp_path))
    job = job_of("cp", "cell", "cellpainting", "data/cp", "cell_dino_cp_vits8", crop_size=32)
    assert job.data_dir == tmp_path / "data" / "cp" and job.checkpoint == "cell_dino_cp_vits8"
    assert job.crop_size == 32 and job.read_options == {}
    ours = job_of("hpa", "fov", "hpa-kaggle", "/d/hpa", "data/checkpoints/hpa/teacher_backbone.pth")
    assert ours.checkpoint == tmp_path / "data/checkpoints/hpa/teacher_backbone.pth"
