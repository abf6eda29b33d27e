"""Correct every feature set from its files, write the corrected tables, measure before and after."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from celldino_utils.chapters import correct_cellpainting_wells, correct_hpa_fields, sphered_knn_score
from celldino_utils.correct import correct
from celldino_utils.io.profiles import profile_path, read_profiles, write_profiles
from celldino_utils.io.provenance import read_provenance

from ..correct.test_harmony import _two_batches
from ..correct.test_sphering import DMSO, _plates


def test_hpa_fields_are_corrected_written_and_measured(tmp_path: Path) -> None:
    fields = {"a": _two_batches(seed=0), "b": _two_batches(seed=1)}
    for name, table in fields.items():
        write_profiles(table, profile_path(tmp_path / "emb", dataset="hpa", level="fov", features=name))
    options = {"n_components": 10, "sigma": 0.5, "random_state": 0}
    metrics = correct_hpa_fields(tmp_path / "emb", tmp_path / "prof", feature_sets=["a", "b"], **options)
    assert list(metrics.index.get_level_values("features").unique()) == ["a", "b"]
    assert list(metrics.loc["a", "method"]) == ["none", "harmony"]
    written = read_profiles(
        profile_path(tmp_path / "prof", dataset="hpa", level="fov", features="a", correction="harmony")
    )
    expected = correct(fields["a"], method="harmony", batch_col="Metadata_cell_line", **options)
    pd.testing.assert_frame_equal(written.reset_index(drop=True), expected.reset_index(drop=True))
    before, after = metrics.loc["a"].set_index("method").loc[["none", "harmony"], "batch_silhouette"]
    assert after < before


def test_cellpainting_wells_are_aggregated_sphered_written_and_measured(tmp_path: Path) -> None:
    wells = _plates()
    cells = pd.concat([wells, wells.assign(**{c: wells[c] + 0.1 for c in wells.filter(like="emb_")})])
    provenance = {"model": "cell_dino_cp_vits8", "weights_sha256": "ab" * 32, "channels": ["DNA", "RNA", "ER"]}
    write_profiles(
        cells, profile_path(tmp_path / "emb", dataset="cp", level="cell", features="a"), provenance=provenance
    )
    metrics = correct_cellpainting_wells(
        tmp_path / "emb", tmp_path / "prof", feature_sets=["a"], control_query=DMSO, random_state=0
    )
    for correction in ("none", "sphering"):
        path = profile_path(tmp_path / "prof", dataset="cp", level="well", features="a", correction=correction)
        assert len(read_profiles(path)) == len(wells)
        assert read_provenance(path) == provenance  # the wells say which model made their cells' features
    before, after = metrics.loc["a"].set_index("method").loc[["none", "sphering"], "replicate_map"]
    assert after > before
    sphered = metrics.loc["a"].set_index("method").loc["sphering", "label_knn_f1"]
    assert sphered_knn_score(cells, label_col="Metadata_moa", control_query=DMSO, random_state=0) == sphered


def test_cellpainting_batch_metrics_tell_apart_the_groups_asked_for(tmp_path: Path) -> None:
    wells = _plates()
    cells = wells.assign(Metadata_Batch=wells["Metadata_Plate"].map({"P0": "B1", "P1": "B1", "P2": "B2", "P3": "B2"}))
    write_profiles(cells, profile_path(tmp_path / "emb", dataset="cp", level="cell", features="a"))
    options = {"feature_sets": ["a"], "control_query": DMSO, "random_state": 0}
    by_plate = correct_cellpainting_wells(tmp_path / "emb", tmp_path / "prof", **options).loc["a"]
    by_batch = correct_cellpainting_wells(tmp_path / "emb", tmp_path / "prof", batch_col="Metadata_Batch", **options)
    by_batch = by_batch.loc["a"]
    pd.testing.assert_frame_equal(by_plate.filter(like="label_"), by_batch.filter(like="label_"))
    assert not by_plate["batch_silhouette"].equals(by_batch["batch_silhouette"])
    with pytest.raises(ValueError, match="Metadata_Site"):
        correct_cellpainting_wells(tmp_path / "emb", tmp_path / "prof", batch_col="Metadata_Site", **options)


def test_a_missing_feature_set_names_its_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="hpa_fov_missing"):
        correct_hpa_fields(tmp_path, tmp_path, feature_sets=["missing"])
