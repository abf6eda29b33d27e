from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from celldino_utils.io import (
    check_profiles,
    feature_columns,
    metadata_columns,
    provenance_text,
    read_profiles,
    read_provenance,
    to_profiles,
    write_profiles,
)
from celldino_utils.io.provenance import inputs_text


def _profiles() -> pd.DataFrame:
    meta = pd.DataFrame({"Id": ["a", "b", "c"], "Metadata_cell_line": ["U2OS", "A431", "U2OS"]})
    return to_profiles(meta, np.arange(6, dtype=np.float32).reshape(3, 2))


def test_schema_prefixes_and_round_trip(tmp_path: Path) -> None:
    profiles = _profiles()
    assert metadata_columns(profiles) == ["Metadata_Id", "Metadata_cell_line"]
    assert feature_columns(profiles) == ["emb_0000", "emb_0001"]
    path = write_profiles(profiles, tmp_path / "x" / "emb.parquet")
    pd.testing.assert_frame_equal(read_profiles(path), profiles)


def test_nan_features_are_refused_with_their_columns(tmp_path: Path) -> None:
    profiles = _profiles()
    profiles.loc[1, "emb_0001"] = np.nan
    with pytest.raises(ValueError, match=r"emb.parquet: 1 row\(s\) hold NaN.*emb_0001"):
        write_profiles(profiles, tmp_path / "emb.parquet")


def test_required_metadata_column_is_named(tmp_path: Path) -> None:
    path = write_profiles(_profiles(), tmp_path / "emb.parquet")
    with pytest.raises(ValueError, match=r"emb.parquet: missing required column.*Metadata_plate"):
        read_profiles(path, require=["Metadata_plate"])


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="do not match 2 metadata rows"):
        to_profiles(pd.DataFrame({"Metadata_Id": ["a", "b"]}), np.zeros((3, 4)))


def test_columns_that_are_neither_metadata_nor_a_declared_feature_are_refused() -> None:
    table = pd.DataFrame({"Metadata_Well": ["A01"], "emb_0000": [0.5], "Unnamed: 0": [0]})
    with pytest.raises(ValueError, match=r"t.parquet: column\(s\) \['Unnamed: 0'\] are neither metadata"):
        check_profiles(table, source="t.parquet")
    assert feature_columns(table) == ["emb_0000"]
    cellprofiler = pd.DataFrame({"Metadata_Well": ["A01"], "Cells_AreaShape_Area": [10.0], "harmony_0000": [1.0]})
    assert feature_columns(cellprofiler) == ["Cells_AreaShape_Area", "harmony_0000"]


def test_provenance_goes_in_the_footer_and_the_columns_stay_the_schema(tmp_path: Path) -> None:
    table = pd.DataFrame({"Metadata_Id": ["a", "b"], "emb_0000": [1.0, 2.0]})
    record = {"model": "cell_dino_cp_vits8", "weights_sha256": "0123abcd" * 8, "channels": ["DNA", "RNA", "ER"]}
    read = read_profiles(write_profiles(table, tmp_path / "with.parquet", provenance=record))
    pd.testing.assert_frame_equal(read, read_profiles(write_profiles(table, tmp_path / "without.parquet")))
    assert read_provenance(tmp_path / "with.parquet") == record == read.attrs["provenance"]
    assert read_provenance(tmp_path / "without.parquet") == {} and provenance_text({}) == ""
    assert provenance_text(record) == "cell_dino_cp_vits8 (weights sha256 0123abcd0123abcd...; channels DNA, RNA, ER)"
    with pytest.raises(ValueError, match="provenance: every value must be plain JSON"):
        write_profiles(table, tmp_path / "bad.parquet", provenance={"weights": Path("w.pth")})
    inputs = {"Cell-DINO": "with.parquet", "random": "without.parquet", "published": "profiles.csv.gz"}
    text = inputs_text(inputs, resolve=lambda given: tmp_path / given)
    assert text == (
        "Cell-DINO: with.parquet, from cell_dino_cp_vits8 (weights sha256 0123abcd0123abcd...; channels DNA, RNA, "
        "ER); random: without.parquet; published: profiles.csv.gz"
    )
