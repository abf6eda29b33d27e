"""MoA prediction by dose (Table D): micro AUPRC, dose groups, repeated compound splits."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.preprocessing import StandardScaler, label_binarize
from threadpoolctl import threadpool_limits

from celldino_utils.evaluate.moa import (
    DOSE_GROUPS,
    NO_MOA,
    describe_moa_task,
    dose_groups,
    moa_auprc,
    moa_by_dose,
    moa_task_wells,
    summarise_moa_runs,
)
from celldino_utils.io.profiles import to_profiles


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Small logistic fits run fastest on one BLAS thread, and much faster than on two when the CPU is shared."""
    with threadpool_limits(1):
        yield


def _wells(n_moas: int = 6, per_moa: int = 5, replicates: int = 3, n_dmso: int = 60, seed: int = 0) -> pd.DataFrame:
    """LINCS-like well profiles: a MoA direction scaled by the dose, a compound offset, noise; DMSO at code 0."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(n_moas, 10))
    rows, features = [], []
    for m in range(n_moas):
        for c in range(per_moa):
            offset = rng.normal(scale=0.5, size=10)
            for dose in range(1, 7):
                for _ in range(replicates):
                    rows.append({"broad_sample": f"BRD-{m}-{c}", "moa": f"moa{m}", "dose_recode": dose})
                    features.append(directions[m] * dose / 3 + offset + rng.normal(size=10))
    for _ in range(n_dmso):
        rows.append({"broad_sample": "DMSO", "moa": "control", "dose_recode": 0})
        features.append(rng.normal(size=10))
    return to_profiles(pd.DataFrame(rows), np.asarray(features))


def test_moa_auprc_equals_scikit_learn_micro_ap() -> None:
    wells = _wells()
    wells = wells[wells["Metadata_dose_recode"] == 2]
    test_mask = wells["Metadata_broad_sample"].str.endswith("-0").to_numpy()
    train, test = wells[~test_mask], wells[test_mask]
    X_train, X_test = train.filter(like="emb_").to_numpy(), test.filter(like="emb_").to_numpy()
    scaler = StandardScaler().fit(X_train)
    model = LogisticRegression(max_iter=2000, random_state=3).fit(scaler.transform(X_train), train["Metadata_moa"])
    truth = label_binarize(test["Metadata_moa"], classes=model.classes_)
    expected = 100 * average_precision_score(truth, model.predict_proba(scaler.transform(X_test)), average="micro")
    assert moa_auprc(train, test, seed=3) == pytest.approx(expected)
    assert 0 < expected < 100


def test_moa_auprc_hand_made_perfect_and_test_classes_subset() -> None:
    # Two training MoAs far apart; the test holds only MoA "a": one-hot over both training classes.
    train = to_profiles(pd.DataFrame({"moa": ["a", "a", "b", "b"]}), np.array([[0.0], [0.2], [5.0], [5.2]]))
    test = to_profiles(pd.DataFrame({"moa": ["a", "a"]}), np.array([[0.1], [-0.1]]))
    assert moa_auprc(train, test, seed=0) == pytest.approx(100.0)
    assert moa_auprc(train, test, classifier="mlp", seed=0) == pytest.approx(100.0)


def test_moa_auprc_errors() -> None:
    train = to_profiles(pd.DataFrame({"moa": ["a", "b"]}), np.array([[0.0], [1.0]]))
    test = to_profiles(pd.DataFrame({"moa": ["c"]}), np.array([[0.0]]))
    with pytest.raises(ValueError, match=r"test MoA\(s\) \['c'\]"):
        moa_auprc(train, test, seed=0)
    with pytest.raises(ValueError, match="classifier"):
        moa_auprc(train, train, classifier="forest", seed=0)


def test_dose_groups_default_and_errors() -> None:
    wells = _wells(n_moas=2, per_moa=2, replicates=1, n_dmso=2)
    groups = dose_groups(wells)
    expected = wells["Metadata_dose_recode"].map(
        {1: "low", 2: "low", 3: "medium", 4: "medium", 5: "maximum", 6: "maximum"}
    )
    pd.testing.assert_series_equal(groups, expected.astype("string").rename("Metadata_dose_group"))
    assert groups[wells["Metadata_dose_recode"] == 0].isna().all()
    assert dict(DOSE_GROUPS) == {"low": (1, 2), "medium": (3, 4), "maximum": (5, 6)}
    without_low = wells[wells["Metadata_dose_recode"] > 2]
    with pytest.raises(ValueError, match=r"dose group\(s\) \[\('low', \(1, 2\)\)\] match no compound"):
        dose_groups(without_low)
    with pytest.raises(ValueError, match="in both groups"):
        dose_groups(wells, groups={"a": (1, 2), "b": (2, 3)})
    with pytest.raises(ValueError, match="low"):
        moa_by_dose(without_low, n_runs=1)


def test_moa_by_dose_ten_distinct_runs_and_summary() -> None:
    wells = _wells()
    assert len(wells) == 600
    runs = moa_by_dose(wells, n_runs=10, seed=0)
    assert list(runs["dose_group"].unique()) == ["low", "medium", "maximum"] and len(runs) == 30
    for _, group in runs.groupby("dose_group"):
        assert group["test_compounds"].nunique() == 10  # ten distinct splits
        assert (group["n_test_compounds"] == 6).all() and (group["n_train_compounds"] == 24).all()
    low, high = (runs.loc[runs["dose_group"] == g, "test_compounds"].tolist() for g in ("low", "maximum"))
    assert low == high  # same compounds at every dose: the same split per run
    summary = summarise_moa_runs(runs)
    assert list(summary.columns) == ["dose_group", "auprc_mean", "auprc_std", "n_runs"]
    maximum = runs.loc[runs["dose_group"] == "maximum", "auprc"].to_numpy()
    row = summary.set_index("dose_group").loc["maximum"]
    assert row["auprc_mean"] == pytest.approx(maximum.mean())
    assert row["auprc_std"] == pytest.approx(maximum.std(ddof=1)) and row["n_runs"] == 10
    means = summary.set_index("dose_group")["auprc_mean"]
    assert means["low"] < means["maximum"]  # the signal grows with the dose
    again = moa_by_dose(wells, n_runs=2, seed=0)
    pd.testing.assert_frame_equal(again, runs[runs["run"] < 2].reset_index(drop=True).loc[again.index])


def test_task_wells_leave_out_unannotated_compounds_and_treat_several_moas_as_asked() -> None:
    moas = ["a", np.nan, " b | a ", "", "b", np.nan]
    plates = ["P1", "P1", "P2", "P2", "P2", "P1"]
    wells = to_profiles(pd.DataFrame({"Plate": plates, "moa": moas, "pert_type": ["trt"] * 5 + ["control"]}), np.eye(6))
    control = "Metadata_pert_type == 'control'"
    task, counts = moa_task_wells(wells, control_query=control)
    assert task["Metadata_moa"].tolist() == ["a", "b|a", "b", "control"]  # the control keeps its well
    assert counts.to_dict("records") == [
        {"Metadata_Plate": "P1", "reason": NO_MOA, "left_out": True, "n_wells": 1},
        {"Metadata_Plate": "P2", "reason": NO_MOA, "left_out": True, "n_wells": 1},
        {"Metadata_Plate": "P2", "reason": "several MoAs (multi_moa='expand')", "left_out": False, "n_wells": 1},
    ]
    first, _ = moa_task_wells(wells, multi_moa="first", control_query=control)
    assert first["Metadata_moa"].tolist() == ["a", "b", "b", "control"]
    dropped, counts = moa_task_wells(wells, multi_moa="drop")
    assert dropped["Metadata_moa"].tolist() == ["a", "b"]
    assert counts.groupby("left_out")["n_wells"].sum().to_dict() == {True: 4}
    assert describe_moa_task(counts) == (
        "3 well(s) left out of the MoA task, no MoA annotation (by plate P1: 2, P2: 1); "
        "1 well(s) left out of the MoA task, several MoAs (multi_moa='drop') (by plate P2: 1)"
    )
    with pytest.raises(ValueError, match=r"multi_moa: choose one of \['expand', 'first', 'drop'\], got 'all'"):
        moa_task_wells(wells, multi_moa="all")


def test_moa_auprc_scores_a_compound_with_several_moas_against_a_multi_hot_truth() -> None:
    train = to_profiles(
        pd.DataFrame({"moa": ["a", "a", "b", "b", "a|b"]}), np.array([[0.0], [0.2], [5.0], [5.2], [2.6]])
    )
    test = to_profiles(pd.DataFrame({"moa": ["a", "b|a", "b"]}), np.array([[0.1], [2.5], [5.1]]))
    expanded = to_profiles(
        pd.DataFrame({"moa": ["a", "a", "b", "b", "a", "b"]}), np.array([[0.0], [0.2], [5.0], [5.2], [2.6], [2.6]])
    )
    scaler = StandardScaler().fit(expanded.filter(like="emb_").to_numpy())
    model = LogisticRegression(max_iter=2000, random_state=0)
    model.fit(scaler.transform(expanded.filter(like="emb_").to_numpy()), expanded["Metadata_moa"])
    truth = np.array([[1, 0], [1, 1], [0, 1]])
    expected = 100 * average_precision_score(
        truth, model.predict_proba(scaler.transform(test.filter(like="emb_").to_numpy())), average="micro"
    )
    assert moa_auprc(train, test, seed=0) == pytest.approx(expected)
    empty = test.assign(Metadata_moa=["a", "", "b"])
    with pytest.raises(ValueError, match="1 test well\\(s\\) with an empty 'Metadata_moa'"):
        moa_auprc(train, empty, seed=0)
