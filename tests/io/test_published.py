from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from celldino_utils.evaluate.protocols import moa_run_values
from celldino_utils.io import feature_columns, lincs_dose_recode, read_published
from celldino_utils.io.profiles import CONTROL_QUERY

# Doses as the LINCS platemaps give them (µM), with their expected codes.
LINCS_DOSES = {0.04115226: 1, 0.1234568: 2, 0.3703704: 3, 1.111111: 4, 3.333333: 5, 9.999998: 6}
FEATURES = ("Cells_AreaShape_Area", "Cytoplasm_Intensity_MeanIntensity_Mito", "Nuclei_Texture_Contrast_DNA_3_00")


def _lincs_table() -> pd.DataFrame:
    """Two MoAs of three compounds at the six doses, and two DMSO wells, in the LINCS column layout."""
    rows = []
    for m, moa in enumerate(("proteasome inhibitor", "HDAC inhibitor")):
        for c in range(3):
            for dose in LINCS_DOSES:
                name = f"cpd{m}{c}"
                rows.append((f"BRD-K{m}{c}", name, moa, dose))
    rows += [("DMSO", "DMSO", np.nan, 0.0), ("DMSO", "DMSO", np.nan, np.nan)]
    table = pd.DataFrame(
        rows, columns=["Metadata_broad_sample", "Metadata_pert_iname", "Metadata_moa", "Metadata_mmoles_per_liter"]
    )
    table.insert(0, "Metadata_Plate", "SQ00015096")
    table.insert(1, "Metadata_Well", [f"{'ABCDEFGHIJKLMNOP'[i // 24]}{i % 24 + 1:02d}" for i in range(len(table))])
    rng = np.random.default_rng(0)
    moa_signal = table["Metadata_moa"].eq("HDAC inhibitor").to_numpy(float)[:, None]
    values = rng.normal(size=(len(table), len(FEATURES))) + 3 * moa_signal
    return pd.concat([table, pd.DataFrame(values, columns=list(FEATURES))], axis=1)


@pytest.fixture
def lincs_csv_gz(tmp_path: Path) -> Path:
    path = tmp_path / "SQ00015096_normalized_feature_select.csv.gz"
    _lincs_table().to_csv(path, index=False, compression="gzip")
    return path


def test_lincs_doses_are_recoded_and_dmso_marked(lincs_csv_gz: Path) -> None:
    profiles = read_published(lincs_csv_gz)
    assert feature_columns(profiles) == list(FEATURES)
    assert list(profiles.columns[-5:-3]) == ["Metadata_dose_recode", "Metadata_pert_type"]
    assert profiles["Metadata_dose_recode"].tolist() == list(LINCS_DOSES.values()) * 6 + [0, 0]
    assert profiles["Metadata_pert_type"].tolist() == ["trt"] * 36 + ["control"] * 2
    assert profiles.query(CONTROL_QUERY)["Metadata_pert_iname"].tolist() == ["DMSO", "DMSO"]


def test_lincs_profiles_go_straight_into_table_d(lincs_csv_gz: Path) -> None:
    runs, counts = moa_run_values({"CellProfiler": read_published(lincs_csv_gz)}, n_runs=1)
    assert runs["column"].tolist() == ["Low dose", "Medium dose", "Maximum dose"]
    assert (runs["run_value"] == 100).all()  # the two MoAs are three standard deviations apart
    assert counts.empty and (runs["note"] == "").all()


def test_a_plate_with_unannotated_and_multi_moa_compounds_goes_into_table_d(tmp_path: Path) -> None:
    table = _lincs_table()
    extra = table[table["Metadata_broad_sample"].isin(["BRD-K00", "BRD-K10"])].copy()
    extra["Metadata_broad_sample"] = extra["Metadata_broad_sample"].map({"BRD-K00": "BRD-none", "BRD-K10": "BRD-both"})
    extra["Metadata_moa"] = extra["Metadata_broad_sample"].map(
        {"BRD-none": np.nan, "BRD-both": "HDAC inhibitor|proteasome inhibitor"}
    )
    path = tmp_path / "SQ00015096.csv.gz"
    pd.concat([table, extra], ignore_index=True).to_csv(path, index=False, compression="gzip")
    runs, counts = moa_run_values({"CellProfiler": read_published(path)}, n_runs=1)
    assert runs["run_value"].notna().all()
    assert counts.to_dict("records") == [
        {"method": "CellProfiler", "Metadata_Plate": "SQ00015096", "reason": "no MoA annotation", "left_out": True,
         "n_wells": 6},
        {"method": "CellProfiler", "Metadata_Plate": "SQ00015096", "reason": "several MoAs (multi_moa='expand')",
         "left_out": False, "n_wells": 6},
    ]  # fmt: skip
    assert runs["note"].iloc[0] == (
        "6 well(s) left out of the MoA task, no MoA annotation (by plate SQ00015096: 6); "
        "6 well(s) in the MoA task, several MoAs (multi_moa='expand') (by plate SQ00015096: 6)"
    )


def test_parquet_reads_like_the_csv(lincs_csv_gz: Path, tmp_path: Path) -> None:
    path = tmp_path / "profiles.parquet"
    _lincs_table().to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read_published(path), read_published(lincs_csv_gz))


def test_nearest_dose_on_a_log_scale() -> None:
    # 0.2 and 0.23 lie either side of the log midpoint of 0.12 and 0.37 (0.21); the linear one is 0.245
    doses = [0.2, 0.23, 20.0, 0.001, 0.0, np.nan, 1.0]
    assert lincs_dose_recode(np.array(doses)).tolist() == [2, 3, 6, 1, 0, 0, 4]


def test_a_dose_code_in_the_file_is_kept(tmp_path: Path) -> None:
    table = _lincs_table().assign(Metadata_dose_recode=7, Metadata_pert_type="trt")
    table.to_csv(tmp_path / "p.csv", index=False)
    profiles = read_published(tmp_path / "p.csv")
    assert set(profiles["Metadata_dose_recode"]) == {7}
    assert profiles["Metadata_pert_type"].tolist()[-3:] == ["trt", "control", "control"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.rename(columns=lambda c: c.removeprefix("Metadata_")), r"p.csv: no Metadata_\* columns"),
        (lambda t: t.drop(columns=list(FEATURES)), r"p.csv: no feature columns"),
        (lambda t: t.assign(Cells_AreaShape_Area="big"), r"p.csv: non-numeric feature.*Cells_AreaShape_Area"),
        (lambda t: t.assign(Plate=1), r"p.csv: column\(s\) \['Plate'\] are neither Metadata_\*"),
        (lambda t: t.assign(Metadata_mmoles_per_liter=-1.0), r"p.csv: column Metadata_mmoles_per_liter has 38 neg"),
        (lambda t: t.assign(Metadata_mmoles_per_liter="1 uM"), r"p.csv: column Metadata_mmoles_per_liter is not num"),
    ],
    ids=["no-metadata", "no-features", "text-feature", "stray-column", "negative-dose", "text-dose"],
)
def test_bad_tables_are_named(tmp_path: Path, change: Callable[[pd.DataFrame], pd.DataFrame], message: str) -> None:
    change(_lincs_table()).to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(ValueError, match=message):
        read_published(tmp_path / "p.csv")


def test_unknown_extension_and_missing_file_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"profiles.xlsx: unknown profile file extension"):
        read_published(tmp_path / "profiles.xlsx")
    with pytest.raises(FileNotFoundError, match="nowhere.parquet"):
        read_published(tmp_path / "nowhere.parquet")
