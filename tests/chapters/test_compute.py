"""The compute chapter's scores: which panels a profile asks for, and on which data and models."""

from __future__ import annotations

from pathlib import Path

import pytest

from celldino_utils.chapters.compute import curve_scores


@pytest.mark.parametrize("group_col, n_scores", [("Metadata_Plate", 3), (None, 2)])
def test_the_cell_panel_is_there_only_with_a_group_to_hold_out(
    group_col: str | None, n_scores: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELLDINO_ROOT", str(tmp_path))
    scores = curve_scores(
        hpa={"format": "hpa-kaggle", "data": "data/hpa", "checkpoint": "hpa.pth", "read_options": {}},
        cellpainting={"format": "cellpainting", "data": "data/cp", "checkpoint": "cp.pth", "crop_size": 32},
        localisation_col="Metadata_Target",
        knn_group_col="Metadata_plate",
        moa_col="Metadata_moa",
        multi_moa="expand",
        control_query="Metadata_pert_type == 'control'",
        sphering_epsilon=1e-3,
        cell_probe_group_col=group_col,
        cell_probe_query="Metadata_dose_recode in (0, 6)",
        probe_n_jobs=1,
        seed=0,
        cell_probe_held_out=["SQ00014812", "SQ00014814"],
    )
    assert len(scores) == n_scores
    assert scores[0].name == "Localisation: nearest field from another plate (macro F1)"
    assert scores[0].job.data_dir == tmp_path / "data" / "hpa" and scores[1].job.crop_size == 32
    if group_col:
        assert scores[2].job is scores[1].job and "on a plate left out" in scores[2].name
        assert scores[2].score.keywords["held_out"] == ["SQ00014812", "SQ00014814"]  # only those plates are scored
