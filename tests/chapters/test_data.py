"""The data chapter's tables: images per group, labels per class, the planted truth of a synthetic screen."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from celldino_utils.chapters.data import images_per_group, label_counts, planted_tables

METADATA = pd.DataFrame(
    {
        "Metadata_cell_line": ["A", "A", "B", "B", "B"],
        "Metadata_plate": ["p1", "p1", "p2", "p2", "p3"],
        "Metadata_Id": ["f1", "f2", "f3", "f4", "f5"],
        "Metadata_Target": ["0", "0 2", "2", "25", "0"],
        "Metadata_class_list": ["hpa-kaggle-2018"] * 5,
    }
)


def test_images_are_counted_per_group_across_the_last_column_or_in_one_column() -> None:
    wide = images_per_group(METADATA, ["Metadata_cell_line", "Metadata_plate"])
    assert wide.loc["B"].to_dict() == {"p1": 0, "p2": 2, "p3": 1} and wide.loc["A", "p1"] == 2
    tall = images_per_group(METADATA, ["Metadata_cell_line"], name="wells")
    assert tall["wells"].to_dict() == {"A": 2, "B": 3}


def test_an_image_with_two_labels_counts_in_both_and_heterogeneity_only_where_known() -> None:
    counts = label_counts(METADATA)
    assert len(counts) == 1 and counts[0]["images"].sum() == 6  # five images, one of them with two labels
    with_truth = label_counts(METADATA.assign(Metadata_heterogeneity=["none", "none", "spatial", "none", "none"]))
    assert with_truth[1]["images"].to_dict() == {"none": 4, "spatial": 1}


def test_real_data_have_no_planted_truth() -> None:
    (shown,) = planted_tables("data/real", generate=False)
    assert isinstance(shown, Markdown) and "no planted truth" in shown.data
