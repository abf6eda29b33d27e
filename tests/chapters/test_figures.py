"""The figure chapters' choices that are not drawing: Figure D's example proteins."""

from __future__ import annotations

import pandas as pd
import pytest

from celldino_utils.chapters.figures import example_cells, figure_c_profiles
from celldino_utils.io.profiles import write_profiles

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


def _wells(path, n: int = 8) -> str:
    wells = pd.DataFrame(
        {
            "Metadata_pert_type": ["control", "trt"] * (n // 2),
            "Metadata_dose_recode": [0, 6] * (n // 2),
            "Metadata_moa": ["control", "a"] * (n // 2),
            "emb_0000": range(n),
            "emb_0001": range(n),
        }
    )
    write_profiles(wells, path)
    return str(path)


def test_figure_c_selects_only_the_wells_of_panel_d(tmp_path) -> None:
    paths = [_wells(tmp_path / f"{i}.parquet") for i in range(4)]
    profiles = figure_c_profiles(paths, cp_wells_query="Metadata_pert_type != 'control'")
    assert [len(table) for table in profiles] == [8, 8, 8, 4]
    assert [len(table) for table in figure_c_profiles(paths, cp_wells_query="")] == [8, 8, 8, 8]


def test_a_query_that_selects_no_well_names_itself_and_the_file(tmp_path) -> None:
    paths = [_wells(tmp_path / f"{i}.parquet") for i in range(4)]
    with pytest.raises(ValueError, match=r"cp_wells_query: .*dose_recode == 3.*/3\.parquet"):
        figure_c_profiles(paths, cp_wells_query="Metadata_dose_recode == 3")
