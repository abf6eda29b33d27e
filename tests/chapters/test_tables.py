from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from celldino_utils.chapters import localisation_table, read_localisation_cells
from celldino_utils.chapters.tables import cellprofiler_note, results_tables, untuned_notes
from celldino_utils.io import write_profiles


def _cells(path: Path) -> Path:
    table = pd.DataFrame(
        {
            "Metadata_Id": ["f1", "f1", "f2", "f3"],
            "Metadata_antibody": ["HPA1", "HPA1", "HPA2", "CAB9"],
            "Metadata_locations": ["Nucleoplasm", "Nucleoplasm", "Cytosol;Vesicles", "Cytosol"],
            "emb_0000": [0.0, 1.0, 2.0, 3.0],
        }
    )
    return write_profiles(table, path)


def test_cells_get_the_published_split_and_the_left_out_are_counted(tmp_path: Path) -> None:
    pd.DataFrame({"antibody": ["HPA1", "HPA2"], "split": ["train", "test"]}).to_csv(
        tmp_path / "splits.csv", index=False
    )
    cells, left_out = read_localisation_cells(
        {"Cell-DINO": _cells(tmp_path / "cells.parquet")},
        label_col="Metadata_locations",
        names_sep=";",
        splits_csv=tmp_path / "splits.csv",
    )
    assert list(cells["Cell-DINO"]["Metadata_split"]) == ["train", "train", "test"] and left_out == {"Cell-DINO": 1}


def test_index_labels_need_their_class_list(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Metadata_class_list"):
        read_localisation_cells(
            {"m": _cells(tmp_path / "cells.parquet")}, label_col="Metadata_locations", names_sep=None
        )


def _named_cells(path: Path, *, n_antibodies: int = 24) -> Path:
    """Single cells labelled by class name, one label set per antibody, features that separate the classes."""
    rng = np.random.default_rng(0)
    classes = ["Nucleoplasm", "Nucleoli", "Cytosol", "Mitochondria"]
    prototypes = rng.normal(size=(len(classes), 8)) * 3
    rows = []
    for a in range(n_antibodies):
        label = a % len(classes)
        for cell in range(6):
            features = prototypes[label] + rng.normal(scale=0.5, size=8)
            rows.append(
                {"Metadata_Id": f"ab{a}_f{cell // 3}", "Metadata_antibody": f"ab{a}", "Metadata_Target": classes[label]}
                | {f"emb_{k:04d}": value for k, value in enumerate(features)}
            )
    return write_profiles(pd.DataFrame(rows), path)


def test_tables_a_and_b_are_one_driver_with_two_class_sets(tmp_path: Path) -> None:
    cells = str(_named_cells(tmp_path / "cells.parquet"))
    options = {
        "external_inputs": {},
        "method_map": {"Cell-DINO": "Cell-DINO"},
        "label_col": "Metadata_Target",
        "names_sep": ";",
        "splits_csv": "",
        "seeds": [0],
        "max_epochs": 3,
        "patience": 2,
        "dataset": "toy cells",
        "profile": "test",
        "out_dir": str(tmp_path / "figures"),
    }
    nucleus = {"Nucleoplasm": "Nucleus", "Nucleoli": "Nucleus", "Cytosol": "Cytosol", "Mitochondria": "Mitochondria"}
    coarse = localisation_table("A", {"Cell-DINO": cells}, class_groups=nucleus, **options)
    fine = localisation_table("B", {"Cell-DINO": cells}, class_groups=None, **options)
    assert coarse.report == "3 classes: Cytosol, Mitochondria, Nucleus"
    assert fine.report == "4 classes: Cytosol, Mitochondria, Nucleoli, Nucleoplasm"
    for result in (coarse, fine):
        written = pd.read_csv(tmp_path / "figures" / f"table_{result.name}.csv")
        assert written["run_value"].notna().sum() == result.table["run_value"].notna().sum() > 0
        assert set(written["dataset"]) == {"toy cells"} and f"Cell-DINO: {cells}" in written["features"].iloc[0]
        assert list(result.side_by_side.index) == list(dict.fromkeys(result.table["method"]))


def test_table_c_without_fine_tuning_says_why_its_rows_are_empty() -> None:
    notes = untuned_notes({"Cell-DINO+": "not released"}, ["Cell-DINO ft", "Cell-DINO+ ft"])
    assert notes["Cell-DINO+"] == "not released"
    assert notes["Cell-DINO ft"] == notes["Cell-DINO+ ft"]
    assert notes["Cell-DINO ft"].startswith("fine-tuning not run (finetune = False)")


def test_table_d_explains_the_cellprofiler_row_unless_published_profiles_fill_it() -> None:
    assert "cp-measure" in cellprofiler_note({"Cell-DINO": "Cell-DINO"})["CellProfiler"]
    assert cellprofiler_note({"Cell-DINO": "Cell-DINO", "LINCS": "CellProfiler"}) == {}


def test_results_check_the_planted_truths_from_the_files_named(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "method": ["Cell-DINO", "ViT random init"],
            "column": ["Maximum dose", "Maximum dose"],
            "paper_value": [30.0, None],
            "run_value": [40.0, 30.0],
            "run_std": [1.0, 1.0],
            "n_runs": [3, 3],
            "dataset": "synthetic",
            "features": "f",
            "profile": "default",
            "note": "",
        }
    )
    table.assign(table="D").to_csv(tmp_path / "table_D.csv", index=False)
    silhouettes = pd.DataFrame({"features": ["Cell-DINO"], "panel": ["B"], "silhouette": [0.08]})
    silhouettes.to_csv(tmp_path / "figure_C_silhouettes.csv", index=False)
    files = {"D": str(tmp_path / "table_D.csv")}
    results = results_tables(files, {"figure_C": str(tmp_path / "figure_C_silhouettes.csv")})
    assert list(results.truths["claim"]) == [
        "Cell-DINO: batches apart (silhouette > 0)",
        "Cell-DINO at least 1.2 x ViT random init",
    ]
    assert results.truths["recovered"].all() and results.claims["recovered"].all()
    assert results_tables(files).truths.empty  # no truth files: real data, nothing planted
    with pytest.raises(ValueError, match="unknown key"):
        results_tables(files, {"figure_D": "x.csv"})
