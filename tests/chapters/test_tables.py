from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from celldino_utils.chapters import read_localisation_cells
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
