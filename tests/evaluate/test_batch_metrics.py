"""Batch-correction metrics on hand-checkable tables, against scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score, silhouette_score

from celldino_utils.evaluate import batch_metric_table, knn_score, moa_map, replicate_map, retrieval_table, silhouette
from celldino_utils.io.profiles import to_profiles

DMSO = "Metadata_broad_sample == 'DMSO'"


def _line(x: list[float], labels: list[str], groups: list[str] | None = None) -> pd.DataFrame:
    """Points on a line (one feature), so that nearest neighbours can be read off by eye."""
    meta = pd.DataFrame({"label": labels, "group": groups if groups is not None else ["g"] * len(x)})
    return to_profiles(meta, np.asarray(x, dtype=float)[:, None])


def _angles(degrees: list[float], meta: dict[str, list[object]]) -> pd.DataFrame:
    """Unit vectors in the plane, so that cosine rankings follow the angles."""
    radians = np.deg2rad(degrees)
    return to_profiles(pd.DataFrame(meta), np.column_stack([np.cos(radians), np.sin(radians)]))


def test_silhouette_equals_scikit_learn_and_a_hand_value() -> None:
    profiles = _line([0.0, 1.0, 10.0, 11.0], ["a", "a", "b", "b"])
    hand = np.mean([1 - 1 / 10.5, 1 - 1 / 9.5, 1 - 1 / 9.5, 1 - 1 / 10.5])
    assert silhouette(profiles, label_col="Metadata_label", metric="euclidean") == pytest.approx(hand)
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 5))
    labels = np.repeat(["x", "y", "z"], 10)
    table = to_profiles(pd.DataFrame({"label": labels}), values)
    expected = silhouette_score(values, labels, metric="cosine")
    assert silhouette(table, label_col="Metadata_label") == pytest.approx(expected)


def test_knn_score_leave_one_out_by_hand() -> None:
    profiles = _line([0.0, 1.0, 5.0, 6.0, 20.0], ["a", "a", "b", "a", "b"])
    predicted = ["a", "a", "a", "b", "a"]  # nearest other point: 1, 0, 6, 5, 6
    expected = f1_score(["a", "a", "b", "a", "b"], predicted, average="macro")
    assert knn_score(profiles, label_col="Metadata_label", metric="euclidean") == pytest.approx(expected)
    assert expected == pytest.approx((2 * 0.5 * (2 / 3) / (0.5 + 2 / 3) + 0.0) / 2)


def test_knn_score_takes_neighbours_from_other_groups_only() -> None:
    profiles = _line([0.0, 1.0, 5.0, 6.0, 20.0], ["a", "a", "b", "a", "b"], ["g1", "g1", "g2", "g2", "g1"])
    predicted = ["b", "b", "a", "a", "a"]  # nearest point of another group: 5, 5, 1, 1, 6
    expected = f1_score(["a", "a", "b", "a", "b"], predicted, average="macro")
    score = knn_score(profiles, label_col="Metadata_label", group_col="Metadata_group", metric="euclidean")
    assert score == pytest.approx(expected)


def test_knn_score_majority_vote_with_k3() -> None:
    profiles = _line([0.0, 1.0, 2.0, 3.0, 100.0], ["a", "b", "b", "a", "a"])
    truth = ["a", "b", "b", "a", "a"]
    predicted = ["b", "a", "a", "b", "b"]  # e.g. 0 -> {1: b, 2: b, 3: a}; 100 -> {3: a, 2: b, 1: b}
    expected = f1_score(truth, predicted, average="macro")
    assert knn_score(profiles, label_col="Metadata_label", k=3, metric="euclidean") == pytest.approx(expected)


def test_knn_score_multilabel_uses_the_neighbours_label_set() -> None:
    profiles = _line([0.0, 1.0, 5.0, 6.0], ["0 1", "0", "1 2", "2"])
    truth = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]])
    predicted = truth[[1, 0, 3, 2]]  # the nearest neighbour's set
    expected = f1_score(truth, predicted, average="macro")
    score = knn_score(profiles, label_col="Metadata_label", metric="euclidean", multilabel=True)
    assert score == pytest.approx(expected)


def test_knn_score_and_silhouette_errors() -> None:
    profiles = _line([0.0, 1.0, 5.0, 6.0], ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match=r"Metadata_moa.*available Metadata_ columns.*Metadata_label"):
        knn_score(profiles, label_col="Metadata_moa")
    with pytest.raises(ValueError, match=r"'Metadata_group' needs at least 2 distinct values, found 1"):
        knn_score(profiles, label_col="Metadata_label", group_col="Metadata_group")
    with pytest.raises(ValueError, match=r"'Metadata_group' needs at least 2 distinct values"):
        silhouette(profiles, label_col="Metadata_group")
    profiles.loc[1, "emb_0000"] = np.nan
    with pytest.raises(ValueError, match=r"1 row\(s\) hold NaN.*emb_0000"):
        silhouette(profiles, label_col="Metadata_label")


def _replicates() -> pd.DataFrame:
    meta = {
        "Plate": ["P1", "P2", "P1", "P2", "P1", "P2", "P1"],
        "broad_sample": ["X", "X", "Y", "Y", "DMSO", "DMSO", "DMSO"],
        "mmoles_per_liter": [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0],
    }
    return _angles([0.0, 10.0, 200.0, 201.0, 5.0, 90.0, 180.0], meta)


def test_replicate_map_matches_hand_average_precision() -> None:
    profiles = _replicates()
    scores = replicate_map(profiles, control_query=DMSO, null_size=100)
    values = profiles[["emb_0000", "emb_0001"]].to_numpy()
    controls = [4, 5, 6]

    def ap(query: int, positive: int) -> float:
        candidates = [positive, *controls]
        return average_precision_score([1, 0, 0, 0], values[candidates] @ values[query])

    assert ap(0, 1) == pytest.approx(0.5)  # the DMSO well at 5 degrees comes first
    by_compound = scores.set_index("Metadata_broad_sample")["mean_average_precision"]
    assert by_compound["X"] == pytest.approx(np.mean([ap(0, 1), ap(1, 0)]))
    assert by_compound["Y"] == pytest.approx(np.mean([ap(2, 3), ap(3, 2)]))
    assert scores["Metadata_mmoles_per_liter"].tolist() == [1.0, 1.0]


def test_replicate_map_needs_replicates_on_two_plates() -> None:
    profiles = _replicates()
    profiles.loc[1, "Metadata_Plate"] = "P1"
    with pytest.raises(ValueError, match=r"1 compound/dose group\(s\) have fewer than 2 distinct 'Metadata_Plate'"):
        replicate_map(profiles, control_query=DMSO, null_size=100)


def test_moa_map_retrieves_compounds_of_the_same_mechanism() -> None:
    meta = {"broad_sample": ["A", "B", "C", "D", "E", "F"], "moa": ["m1", "m1", "m2", "m2", "m3", "m3"]}
    profiles = _angles([0.0, 10.0, 120.0, 130.0, 240.0, 250.0], meta)
    scores = moa_map(profiles, null_size=100)
    assert scores["Metadata_moa"].tolist() == ["m1", "m2", "m3"]
    np.testing.assert_allclose(scores["mean_average_precision"], 1.0)
    with pytest.raises(ValueError, match=r"1 MoA\(s\) have fewer than 2 distinct 'Metadata_broad_sample'.*m3"):
        moa_map(profiles.iloc[:5], null_size=100)


def test_batch_metric_table_one_row_per_method() -> None:
    profiles = _replicates().assign(Metadata_label=["x", "x", "y", "y", "c", "c", "c"])
    shifted = profiles.assign(emb_0000=profiles["emb_0000"] + 0.1)
    table = batch_metric_table(
        {"none": profiles, "shifted": shifted},
        label_col="Metadata_label",
        batch_col="Metadata_Plate",
        replicate_options={"control_query": DMSO, "null_size": 100},
    )
    assert table["method"].tolist() == ["none", "shifted"]
    expected = ["label_silhouette", "batch_silhouette", "label_knn_f1", "batch_knn_f1", "replicate_map"]
    assert set(expected) <= set(table.columns)
    assert table.loc[0, "label_silhouette"] == pytest.approx(silhouette(profiles, label_col="Metadata_label"))
    assert table.loc[0, "batch_knn_f1"] == pytest.approx(knn_score(profiles, label_col="Metadata_Plate"))
    no_compounds = profiles.drop(columns=["Metadata_broad_sample"])
    plain = batch_metric_table({"none": no_compounds}, label_col="Metadata_label", batch_col="Metadata_Plate")
    assert "replicate_map" not in plain.columns


def test_retrieval_table_puts_replicate_and_mechanism_map_side_by_side() -> None:
    compounds = ["A", "B", "C", "D", "DMSO", "DMSO"]
    meta = {
        "broad_sample": compounds * 2,
        "mmoles_per_liter": [1.0] * 12,
        "moa": ["m1", "m1", "m2", "m2", "control", "control"] * 2,
        "Plate": ["P1"] * 6 + ["P2"] * 6,
    }
    wells = _angles([0.0, 20.0, 120.0, 140.0, 250.0, 290.0, 5.0, 25.0, 125.0, 145.0, 255.0, 285.0], meta)
    table = retrieval_table({"angles": wells, "reversed": wells.iloc[::-1]}, control_query=DMSO)
    assert list(table.index) == ["angles", "reversed"] and table.index.name == "features"
    replicate = replicate_map(wells, control_query=DMSO)["mean_average_precision"].mean()
    mechanism = moa_map(wells, control_query=DMSO)["mean_average_precision"].mean()
    assert table.loc["angles", ["replicate_map", "mechanism_map"]].tolist() == pytest.approx([replicate, mechanism])
    assert table.loc["angles", "replicate_map"] == pytest.approx(1.0)  # each compound's twin is its nearest well
    assert table.loc["angles", "moa_note"] == ""  # every treated well has one MoA
    extra = wells[wells["Metadata_broad_sample"] == "A"].assign(Metadata_broad_sample="E", Metadata_moa=np.nan)
    unannotated = pd.concat([wells, extra], ignore_index=True)
    note = retrieval_table({"angles": unannotated}, control_query=DMSO).loc["angles", "moa_note"]
    assert note == "2 well(s) left out of the MoA task, no MoA annotation (by plate P1: 1, P2: 1)"
    lonely = pd.concat([wells, extra.assign(Metadata_moa="m3")], ignore_index=True)
    table = retrieval_table({"angles": lonely}, control_query=DMSO)
    assert table.loc["angles", "mechanism_map"] == pytest.approx(mechanism)
    assert table.loc["angles", "moa_note"] == "2 well(s) of MoAs with one compound (no positive pair)"
