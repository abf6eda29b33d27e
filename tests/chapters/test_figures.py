"""The figure chapters' choices that are not drawing: Figure D's example proteins."""

from __future__ import annotations

import pandas as pd
import pytest

from celldino_utils.chapters.figures import example_cells

LINE = pd.DataFrame(
    {
        "Metadata_antibody": ["HPA1", "HPA1", "HPA2", "HPA3"],
        "Metadata_heterogeneity": ["none", "none", "spatial", "intensity"],
        "emb_0000": [0.0, 0.1, 1.0, 2.0],
    }
)
OPTIONS = {"truth_col": "Metadata_heterogeneity", "protein_col": "Metadata_antibody", "min_cells": 1}


def test_named_examples_are_the_cells_of_each_protein_by_kind() -> None:
    chosen = example_cells(LINE, pd.DataFrame(), {"none": "HPA1", "spatial": "HPA2"}, **OPTIONS, source="U2OS")
    assert list(chosen) == ["HPA1 (none)", "HPA2 (spatial)"]
    assert len(chosen["HPA1 (none)"]) == 2


def test_an_example_without_cells_names_itself_and_the_data() -> None:
    with pytest.raises(ValueError, match=r"no cell of \['HPA9 \(spatial\)'\] in the U2OS cells"):
        example_cells(LINE, pd.DataFrame(), {"spatial": "HPA9"}, **OPTIONS, source="the U2OS cells")
