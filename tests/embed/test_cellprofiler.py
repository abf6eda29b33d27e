"""CellProfiler-style baseline: column schema, row alignment with open_cells, NaN rule, and known biology."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from celldino_utils.chapters import EmbedJob, cellprofiler_suite
from celldino_utils.embed.cellprofiler import (
    DEFAULT_MEASUREMENTS,
    cellprofiler_profiles,
    fill_non_finite,
    measure_cells,
)
from celldino_utils.io.datasets import open_cells
from celldino_utils.io.profiles import check_profiles, feature_columns, metadata_columns, read_profiles
from celldino_utils.synthetic import ensure_synthetic

CHANNELS = ("nucleus", "protein")


@pytest.fixture(scope="module")
def hpa_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny synthetic HPA data in which every protein varies in level from cell to cell."""
    settings = {"preset": "tiny", "heterogeneity_fractions": [0.0, 0.0, 1.0]}
    return ensure_synthetic("hpa", tmp_path_factory.mktemp("hpa") / "hpa", settings)


@pytest.fixture(scope="module")
def hpa_profiles(hpa_dir: Path) -> pd.DataFrame:
    return cellprofiler_profiles("hpa-kaggle", hpa_dir, progress=False)


@pytest.fixture(scope="module")
def cp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny synthetic Cell Painting screen: one plate, one dose, 2-3 cells per site."""
    settings = {
        "preset": "tiny",
        "plates_per_batch": 1,
        "dmso_wells_per_plate": 2,
        "doses_um": [10.0],
        "cells_per_site": [2, 3],
    }
    return ensure_synthetic("cellpainting", tmp_path_factory.mktemp("cp") / "cp", settings)


def _field() -> tuple[np.ndarray, np.ndarray]:
    """A (2, 40, 40) image with a 10x10 object (label 3) and a 6x14 object (label 7)."""
    rng = np.random.default_rng(0)
    image = rng.uniform(0.0, 0.2, (2, 40, 40)).astype(np.float32)
    labels = np.zeros((40, 40), dtype=np.int32)
    labels[5:15, 5:15] = 3
    labels[20:26, 10:24] = 7
    image[1][labels == 7] += 0.5
    return image, labels


def test_measure_cells_names_columns_like_cellprofiler_and_keeps_id_order() -> None:
    image, labels = _field()
    features = measure_cells(image, labels, channel_names=CHANNELS, object_ids=[7, 3])
    assert list(features.index) == [7, 3]
    assert features.loc[7, "Cells_AreaShape_Area"] == 84 and features.loc[3, "Cells_AreaShape_Area"] == 100
    assert (
        features.loc[7, "Cells_Intensity_MeanIntensity_protein"]
        > features.loc[3, "Cells_Intensity_MeanIntensity_protein"] + 0.4
    )
    columns = list(features.columns)
    assert all(c.startswith("Cells_") for c in columns)
    assert "Cells_Texture_Contrast_protein_3_00_256" in columns
    assert "Cells_RadialDistribution_FracAtD_nucleus_1of4" in columns
    assert not [c for c in columns if c.startswith("Cells_AreaShape") and c.endswith(CHANNELS)]  # shape once
    assert not [c for c in columns if "Location" in c or "Center_" in c or "BoundingBoxM" in c]  # no positions
    per_channel = [c for c in columns if c.endswith("_nucleus") or "_nucleus_" in c]
    assert len(per_channel) == len([c for c in columns if c.endswith("_protein") or "_protein_" in c])


def test_measure_cells_raises_for_an_object_id_missing_from_the_labels() -> None:
    image, labels = _field()
    with pytest.raises(ValueError, match=r"object id\(s\) \[5\] are not in the labels"):
        measure_cells(image, labels, channel_names=CHANNELS, object_ids=[3, 5, 7])
    with pytest.raises(ValueError, match="unknown measurement"):
        measure_cells(image, labels, channel_names=CHANNELS, object_ids=[3], measurements=("colour",))


def test_undefined_texture_of_a_tiny_object_is_filled_and_counted() -> None:
    image, labels = _field()
    labels[30:32, 30:32] = 9  # 2x2 pixels: no pixel pair 3 px apart, texture undefined
    features = measure_cells(image, labels, channel_names=CHANNELS, object_ids=[3, 7, 9], measurements=("texture",))
    assert features.loc[9].isna().all() and features.loc[[3, 7]].notna().all().all()
    table = features.reset_index().rename(columns={"object_id": "Metadata_object_id"})
    with pytest.warns(UserWarning, match="undefined feature value"):
        filled = fill_non_finite(table)
    assert len(filled) == 3 and (filled.loc[2, features.columns] == 0).all()
    assert filled.attrs["non_finite"] == {c: 1 for c in features.columns}
    check_profiles(filled, source="filled")


def test_hpa_profiles_follow_open_cells_row_for_row(hpa_dir: Path, hpa_profiles: pd.DataFrame) -> None:
    cells = open_cells("hpa-kaggle", hpa_dir, crop_size=32).metadata
    assert metadata_columns(hpa_profiles) == list(cells.columns)
    pd.testing.assert_frame_equal(hpa_profiles[list(cells.columns)], cells)
    check_profiles(hpa_profiles, source="hpa baseline")
    assert all(c.startswith("Cells_") for c in feature_columns(hpa_profiles))
    assert hpa_profiles.attrs["measurements"] == list(DEFAULT_MEASUREMENTS)


def test_protein_intensity_follows_the_known_protein_level(hpa_dir: Path, hpa_profiles: pd.DataFrame) -> None:
    truth = pd.read_csv(hpa_dir / "cells.csv")
    cells = hpa_profiles.merge(
        truth, left_on=["Metadata_Id", "Metadata_cell_id"], right_on=["Id", "cell_id"], validate="one_to_one"
    )
    assert len(cells) == len(hpa_profiles)

    def within_field_r(column: str) -> float:
        x, y = np.log(cells[column]), np.log(cells["protein_level"])
        field = cells["Metadata_Id"]
        return float(np.corrcoef(x - x.groupby(field).transform("mean"), y - y.groupby(field).transform("mean"))[0, 1])

    protein = within_field_r("Cells_Intensity_MeanIntensity_protein")
    assert protein > 0.5
    assert protein > within_field_r("Cells_Intensity_MeanIntensity_nucleus") + 0.3


def test_cellpainting_profiles_segment_every_nucleus_in_open_cells_order(cp_dir: Path) -> None:
    profiles = cellprofiler_profiles("cellpainting", cp_dir, progress=False, n_jobs=2)
    cells = open_cells("cellpainting", cp_dir, crop_size=32).metadata
    pd.testing.assert_frame_equal(profiles[list(cells.columns)], cells)
    check_profiles(profiles, source="cellpainting baseline")
    assert (profiles["Cells_AreaShape_Area"] > 0).all()
    assert {"Cells_Intensity_MeanIntensity_DNA", "Cells_Texture_Entropy_Mito_3_01_256"} <= set(profiles.columns)


def test_crop_size_measures_only_the_pixels_of_the_crop(hpa_dir: Path, hpa_profiles: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small crops may leave undefined texture
        cropped = cellprofiler_profiles(
            "hpa-kaggle", hpa_dir, crop_size=12, progress=False, measurements=("sizeshape",)
        )
    assert (cropped["Cells_AreaShape_Area"] <= 12 * 12).all()
    assert (cropped["Cells_AreaShape_Area"] <= hpa_profiles["Cells_AreaShape_Area"]).all()
    assert (cropped["Cells_AreaShape_Area"] < hpa_profiles["Cells_AreaShape_Area"]).any()


def test_every_cp_measure_group_gets_unique_cellprofiler_names() -> None:
    image, labels = _field()
    groups = ("sizeshape", "zernike", "feret", "intensity", "texture", "granularity", "radial_distribution")
    features = measure_cells(
        image, labels, channel_names=CHANNELS, object_ids=[3, 7], measurements=(*groups, "radial_zernikes")
    )
    assert features.columns.is_unique
    expected = {
        "Cells_AreaShape_Zernike_2_2",
        "Cells_AreaShape_MaxFeretDiameter",
        "Cells_Granularity_1_protein",
        "Cells_RadialDistribution_ZernikeMagnitude_nucleus_2_2",
    }
    assert expected <= set(features.columns)


def test_suite_writes_cells_of_both_data_sets_and_hpa_fields_as_cell_medians(
    hpa_dir: Path, cp_dir: Path, tmp_path: Path
) -> None:
    jobs = [
        EmbedJob("hpa", "fov", "hpa-kaggle", hpa_dir, "random"),
        EmbedJob("hpa", "cell", "hpa-kaggle", hpa_dir, "random", crop_size=32),
        EmbedJob("cp", "cell", "cellpainting", cp_dir, "random", crop_size=32),
    ]
    written = cellprofiler_suite(
        jobs,
        out_dir=tmp_path,
        measurements=("sizeshape", "intensity"),
        progress=False,
    )
    assert [tuple(r) for r in written[["dataset", "level"]].to_numpy()] == [
        ("hpa", "cell"),
        ("hpa", "fov"),
        ("cp", "cell"),
    ]
    cells = read_profiles(tmp_path / "hpa_cell_cellprofiler.parquet")
    fields = read_profiles(tmp_path / "hpa_fov_cellprofiler.parquet")
    assert len(cells) == written.loc[0, "rows"] and len(fields) == cells["Metadata_Id"].nunique()
    assert written.loc[0, "dims"] == len(feature_columns(cells)) > 0
    first = fields.iloc[0]
    own = cells[cells["Metadata_Id"] == first["Metadata_Id"]]
    assert first["Cells_AreaShape_Area"] == own["Cells_AreaShape_Area"].median()
