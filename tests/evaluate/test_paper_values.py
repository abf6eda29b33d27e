"""Published supplement values and their merge with a run's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from celldino_utils.evaluate.paper_values import (
    MERGED_COLUMNS,
    TABLE_NAMES,
    merge_run,
    published_table,
    table_title,
)

# Copied by hand from the supplement text, row by row.
EXPECTED = {
    "A": {"MAE-CellS-ProtS-Pool": [60.0, 67.4], "ViT-ProtS-Pool": [61.3, 70.0], "Cell-DINO": [66.4, 71.4]},
    "B": {"MAE-CellS-ProtS-Pool": [39.9, 46.0], "ViT-ProtS-Pool": [42.1, 51.2], "Cell-DINO": [44.2, 51.4]},
    "C": {
        "Cell-DINO": [83.3, 65.0],
        "Cell-DINO ft": [90.6, 81.9],
        "Cell-DINO+": [90.0, 67.8],
        "Cell-DINO+ ft": [91.2, 83.7],
    },
    "D": {
        "OpenPhenom": [4.97, 5.92, 6.40],
        "CellProfiler": [5.17, 6.00, 6.70],
        "CP-CNN": [5.58, 6.49, 7.32],
        "SubCell": [5.49, 6.67, 7.65],
        "Cell-DINO": [5.47, 6.70, 7.67],
    },
}
COLUMNS = {
    "A": ["Single Cell (MAP)", "FOV (MAP)"],
    "B": ["Single Cell (MAP)", "FOV (MAP)"],
    "C": ["Cell line classification", "Protein localization"],
    "D": ["Low dose", "Medium dose", "Maximum dose"],
}


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_published_values_exactly_as_in_the_supplement(name: str) -> None:
    table = published_table(name)
    assert list(table.columns) == ["table", "method", "column", "paper_value"]
    assert (table["table"] == name).all()
    assert list(table["method"].unique()) == list(EXPECTED[name])
    assert list(table["column"].unique()) == COLUMNS[name]
    assert len(table) == len(EXPECTED[name]) * len(COLUMNS[name])  # every printed cell, once
    for method, values in EXPECTED[name].items():
        got = table.loc[table["method"] == method].set_index("column").loc[COLUMNS[name], "paper_value"]
        assert got.tolist() == values
    assert table_title(name)


def test_unknown_table_raises() -> None:
    with pytest.raises(ValueError, match=r"unknown supplement table 'E'.*\('A', 'B', 'C', 'D'\)"):
        published_table("E")
    with pytest.raises(ValueError, match="unknown supplement table"):
        table_title("Table A")


def _run_d() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "method": ["Cell-DINO"] * 3 + ["ViT random init"] * 3 + ["CellProfiler-style baseline"] * 3,
            "column": COLUMNS["D"] * 3,
            "run_value": [3.1, 3.5, 4.2, 2.0, 2.1, np.nan, 2.5, 2.9, 3.3],
            "run_std": [0.2, 0.3, 0.1, 0.1, 0.2, np.nan, 0.1, 0.1, 0.1],
            "n_runs": [10] * 9,
            "note": ["", "", "", "", "", "diverged", "", "", ""],
        }
    )


def test_merge_run_keeps_every_published_cell_and_adds_run_only_rows() -> None:
    notes = {"OpenPhenom": "model not available offline", "CP-CNN": "weights not public here", "SubCell": "no weights"}
    notes[("CellProfiler", "Low dose")] = "CellProfiler itself not run; see the baseline row"
    notes["CellProfiler"] = "not run"
    notes["CellProfiler-style baseline"] = "cp-measure features"
    merged = merge_run(
        published_table("D"),
        _run_d(),
        dataset="synthetic LINCS-like",
        features="Cell-DINO ViT-S/8 (tiny)",
        profile="tiny",
        method_map={"Cell-DINO": "Cell-DINO"},
        notes=notes,
    )
    assert list(merged.columns) == list(MERGED_COLUMNS)
    published = merged.iloc[:15]
    pd.testing.assert_frame_equal(
        published[["table", "method", "column", "paper_value"]], published_table("D"), check_dtype=False
    )
    dino = merged[merged["method"] == "Cell-DINO"]
    assert dino["run_value"].tolist() == [3.1, 3.5, 4.2] and dino["paper_value"].tolist() == [5.47, 6.70, 7.67]
    assert dino["n_runs"].tolist() == [10, 10, 10] and (dino["note"] == "").all()
    openphenom = merged[merged["method"] == "OpenPhenom"]
    assert openphenom["run_value"].isna().all() and (openphenom["note"] == "model not available offline").all()
    cp_low = merged[(merged["method"] == "CellProfiler") & (merged["column"] == "Low dose")]["note"].item()
    assert cp_low == "not run; CellProfiler itself not run; see the baseline row"
    extra = merged.iloc[15:]
    assert extra["method"].tolist() == ["ViT random init"] * 3 + ["CellProfiler-style baseline"] * 3
    assert extra["paper_value"].isna().all() and extra["table"].eq("D").all()
    assert extra["note"].tolist()[2] == "diverged"
    assert extra["note"].tolist()[3] == "cp-measure features"
    assert (merged["dataset"] == "synthetic LINCS-like").all() and (merged["profile"] == "tiny").all()


def test_merge_run_explicit_mapping_only() -> None:
    run = pd.DataFrame({"method": ["ours"] * 2, "column": COLUMNS["A"], "run_value": [50.0, 55.0]})
    notes = {"MAE-CellS-ProtS-Pool": "SubCell baseline", "ViT-ProtS-Pool": "SubCell baseline"}
    options = {"dataset": "d", "features": "f", "profile": "p"}
    mapped = merge_run(published_table("A"), run, method_map={"ours": "Cell-DINO"}, notes=notes, **options)
    row = mapped[(mapped["method"] == "Cell-DINO") & (mapped["column"] == "FOV (MAP)")].iloc[0]
    assert (row["paper_value"], row["run_value"], row["note"]) == (71.4, 55.0, "run method 'ours'")
    assert len(mapped) == 6
    unmapped = merge_run(published_table("A"), run, method_map={}, notes=notes | {"Cell-DINO": "see 'ours'"}, **options)
    assert len(unmapped) == 8 and unmapped["method"].iloc[-1] == "ours"
    assert unmapped.loc[unmapped["method"] == "Cell-DINO", "run_value"].isna().all()


def test_merge_run_errors() -> None:
    published, options = published_table("A"), {"dataset": "d", "features": "f", "profile": "p"}
    run = pd.DataFrame({"method": ["Cell-DINO"] * 2, "column": COLUMNS["A"], "run_value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="no run value and no note"):
        merge_run(published, run, method_map={"Cell-DINO": "Cell-DINO"}, **options)
    with pytest.raises(ValueError, match="carry a published name but are not in method_map"):
        merge_run(published, run, method_map={}, notes={"Cell-DINO": "x"}, **options)
    with pytest.raises(ValueError, match="must map a run method"):
        merge_run(published, run, method_map={"Cell-DINO": "Cell-DINO v2"}, **options)
    bad_column = run.assign(column=["Single Cell (MAP)", "FoV mAP"])
    with pytest.raises(ValueError, match=r"column\(s\) \['FoV mAP'\]"):
        merge_run(published, bad_column, method_map={"Cell-DINO": "Cell-DINO"}, **options)
    twice = pd.concat([run, run.iloc[:1]])
    with pytest.raises(ValueError, match="more than one value"):
        merge_run(published, twice, method_map={"Cell-DINO": "Cell-DINO"}, **options)
    two = pd.concat([run, run.assign(method="other")])
    with pytest.raises(ValueError, match="several run methods"):
        merge_run(published, two, method_map={"Cell-DINO": "Cell-DINO", "other": "Cell-DINO"}, **options)
    with pytest.raises(ValueError, match=r"notes for unknown method\(s\) \['Cell DINO'\]"):
        merge_run(published, run, method_map={"Cell-DINO": "Cell-DINO"}, notes={"Cell DINO": "typo"}, **options)
    with pytest.raises(ValueError, match="exactly one table"):
        merge_run(pd.concat([published, published_table("B")]), run, method_map={}, **options)
