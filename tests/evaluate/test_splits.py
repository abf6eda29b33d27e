"""Grouped and compound splits: no group leaks, every class/MoA in train, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from celldino_utils.evaluate.splits import attach_split, compound_split, grouped_split


def _cells(n_groups: int = 30, per_group: int = 4, n_classes: int = 6, seed: int = 0) -> pd.DataFrame:
    """Cells of ``n_groups`` antibodies; each antibody carries one or two classes, class 5 is on one antibody."""
    rng = np.random.default_rng(seed)
    labels = []
    for _ in range(n_groups):
        first = rng.integers(0, n_classes - 1)
        second = rng.integers(0, n_classes - 1)
        labels.append(" ".join(sorted({str(first), str(second)})))
    labels[min(7, n_groups - 1)] = "5"  # the rare class: one antibody only
    return pd.DataFrame(
        {
            "Metadata_antibody": np.repeat([f"HPA{g:03d}" for g in range(n_groups)], per_group),
            "Metadata_Target": np.repeat(labels, per_group),
            "emb_0000": rng.normal(size=n_groups * per_group),
        }
    )


def _wells(n_moas: int = 5, per_moa: int = 4, replicates: int = 3) -> pd.DataFrame:
    compounds = [f"BRD-{m}{c}" for m in range(n_moas) for c in range(per_moa)]
    return pd.DataFrame(
        {
            "Metadata_broad_sample": np.repeat(compounds, replicates),
            "Metadata_moa": np.repeat([f"moa{m}" for m in range(n_moas) for _ in range(per_moa)], replicates),
            "emb_0000": np.arange(len(compounds) * replicates, dtype=float),
        }
    )


def test_grouped_split_never_leaks_and_keeps_every_class_in_train() -> None:
    cells = _cells()
    splits = []
    for seed in range(50):
        split = grouped_split(cells, group_col="Metadata_antibody", seed=seed, label_col="Metadata_Target")
        assert split.index.equals(cells.index) and set(split) == {"train", "val", "test"}
        assert (split.groupby(cells["Metadata_antibody"]).nunique() == 1).all()
        train_classes = set(" ".join(cells.loc[split == "train", "Metadata_Target"]).split())
        assert train_classes == {str(c) for c in range(6)}
        assert (split[cells["Metadata_Target"] == "5"] == "train").all()
        counts = split.groupby(cells["Metadata_antibody"]).first().value_counts()
        assert (counts["train"], counts["val"], counts["test"]) == (18, 6, 6)
        splits.append(tuple(split))
    assert len(set(splits)) > 40  # seeds give different splits
    again = grouped_split(cells, group_col="Metadata_antibody", seed=3, label_col="Metadata_Target")
    assert tuple(again) == splits[3]


def test_grouped_split_without_labels_and_single_label_classes() -> None:
    cells = _cells().assign(Metadata_cell_line=lambda t: np.where(t.index % 8 < 4, "U-2 OS", "A-431"))
    for seed in range(20):
        split = grouped_split(cells, group_col="Metadata_antibody", fractions=(0.8, 0.0, 0.2), seed=seed)
        assert set(split) == {"train", "test"}
        assert (split.groupby(cells["Metadata_antibody"]).nunique() == 1).all()
    split = grouped_split(cells, group_col="Metadata_antibody", seed=0, label_col="Metadata_cell_line", label_sep=None)
    assert set(cells.loc[split == "train", "Metadata_cell_line"]) == {"U-2 OS", "A-431"}


def test_grouped_split_errors() -> None:
    cells = _cells(n_groups=4)
    with pytest.raises(ValueError, match="split 'val' would be empty"):
        grouped_split(cells, group_col="Metadata_antibody", fractions=(0.9, 0.05, 0.05), seed=0)
    with pytest.raises(ValueError, match="fractions"):
        grouped_split(cells, group_col="Metadata_antibody", fractions=(0.5, 0.2, 0.2), seed=0)
    with pytest.raises(ValueError, match="Metadata_plate"):
        grouped_split(cells, group_col="Metadata_plate", seed=0)
    many = pd.DataFrame({"Metadata_antibody": list("abcde"), "Metadata_Target": list("01234"), "emb_0000": 0.0})
    with pytest.raises(ValueError, match="keeping every class in train needs 5 training groups"):
        grouped_split(many, group_col="Metadata_antibody", seed=0, label_col="Metadata_Target")


def test_compound_split_never_leaks_and_every_test_moa_is_in_train() -> None:
    wells = _wells()
    tests = set()
    for seed in range(100):
        split = compound_split(wells, test_fraction=0.25, seed=seed)
        assert (split.groupby(wells["Metadata_broad_sample"]).nunique() == 1).all()
        test_moas = set(wells.loc[split == "test", "Metadata_moa"])
        assert test_moas and test_moas <= set(wells.loc[split == "train", "Metadata_moa"])
        assert wells.loc[split == "test", "Metadata_broad_sample"].nunique() == 5
        tests.add(frozenset(wells.loc[split == "test", "Metadata_broad_sample"]))
    assert len(tests) > 90


def test_compound_split_single_compound_moa_stays_in_train() -> None:
    wells = pd.concat([_wells(), _wells(n_moas=1, per_moa=1).replace({"moa0": "lonely", "BRD-00": "BRD-X"})])
    for seed in range(30):
        split = compound_split(wells, test_fraction=0.2, seed=seed)
        assert (split[wells["Metadata_moa"].to_numpy() == "lonely"] == "train").all()


def test_compound_split_errors() -> None:
    with pytest.raises(ValueError, match="test would be empty"):
        compound_split(_wells(n_moas=2, per_moa=2), test_fraction=0.1, seed=0)
    with pytest.raises(ValueError, match="keeping every test MoA in train"):
        compound_split(_wells(n_moas=4, per_moa=1), test_fraction=0.5, seed=0)
    mixed = _wells()
    mixed.loc[0, "Metadata_moa"] = "other"
    with pytest.raises(ValueError, match="more than one 'Metadata_moa'"):
        compound_split(mixed, seed=0)
    with pytest.raises(ValueError, match="Metadata_moa"):
        compound_split(_wells().drop(columns="Metadata_moa"), seed=0)


def test_a_published_split_is_attached_and_the_groups_it_leaves_out_are_counted() -> None:
    cells = pd.DataFrame({"Metadata_antibody": ["HPA1", "HPA1", "HPA2", "HPA3", "CAB4"], "emb_0": range(5)})
    splits = pd.DataFrame({"antibody": ["HPA1", "HPA2", "HPA3"], "split": ["train", "val", "test"]})
    kept, left_out = attach_split(cells, splits)
    assert list(kept["Metadata_split"]) == ["train", "train", "val", "test"] and left_out == 1
    assert list(kept.columns) == ["Metadata_antibody", "Metadata_split", "emb_0"]


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        (pd.DataFrame({"ab": ["HPA1"], "split": ["train"]}), r"splits.csv: missing column\(s\) \['antibody'\]"),
        (pd.DataFrame({"antibody": ["HPA1", "HPA1"], "split": ["train", "test"]}), "listed twice"),
        (pd.DataFrame({"antibody": ["HPA1"], "split": ["validation"]}), r"holds \['validation'\]"),
        (pd.DataFrame({"antibody": ["HPA9"], "split": ["train"]}), "none of the profiles"),
    ],
)
def test_a_wrong_published_split_is_refused_naming_the_file(splits: pd.DataFrame, message: str) -> None:
    cells = pd.DataFrame({"Metadata_antibody": ["HPA1"], "emb_0": [0.0]})
    with pytest.raises(ValueError, match=message):
        attach_split(cells, splits, source="splits.csv")


def test_a_compound_with_several_moas_is_tested_only_when_each_of_its_moas_stays_in_train() -> None:
    wells = pd.concat([_wells(n_moas=2, per_moa=3), _wells(n_moas=1, per_moa=1)], ignore_index=True)
    both = wells["Metadata_broad_sample"] == wells["Metadata_broad_sample"].iloc[-1]
    wells.loc[both, ["Metadata_broad_sample", "Metadata_moa"]] = ["BRD-AB", "moa0|moa1"]
    tested = 0
    for seed in range(40):
        split = compound_split(wells, test_fraction=0.4, seed=seed)
        train = set(wells.loc[split == "train", "Metadata_moa"])
        test = wells.loc[split == "test", "Metadata_moa"]
        for labels in test:
            assert all(any(label in t.split("|") for t in train) for label in labels.split("|"))
        tested += (split[both] == "test").all()
    assert tested > 0
    with pytest.raises(ValueError, match="compound\\(s\\) with an empty 'Metadata_moa'"):
        compound_split(wells.assign(Metadata_moa=wells["Metadata_moa"].where(~both, " | ")), seed=0)
