from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from celldino_utils.evaluate.protocols import (
    NOT_PROVIDED,
    finetune_run_values,
    finish_table,
    moa_run_values,
    regroup_labels,
)


def test_regroup_labels_to_a_coarser_class_set() -> None:
    cells = pd.DataFrame(
        {"Metadata_Target": ["0", "2 25", "23"], "Metadata_class_list": "hpa-kaggle-2018", "emb_0000": [0.0, 1.0, 2.0]}
    )
    groups = {"Nucleoplasm": "Nucleus", "Nucleoli": "Nucleus", "Cytosol": "Cytoplasm", "Mitochondria": "Cytoplasm"}
    coarse, classes = regroup_labels(cells, groups=groups)
    assert classes == ["Cytoplasm", "Nucleus"]
    assert list(coarse["Metadata_Target"]) == ["1", "0 1", "0"]
    fine, classes = regroup_labels(cells, groups=None)
    assert classes == ["Cytosol", "Mitochondria", "Nucleoli", "Nucleoplasm"]
    assert list(fine["Metadata_Target"]) == ["3", "0 2", "1"]
    with pytest.raises(KeyError, match="lacks class"):
        regroup_labels(cells, groups={"Nucleoplasm": "Nucleus"})


def test_regroup_labels_from_names_onto_a_named_class_list() -> None:
    """HPA location annotations come as names; ``subcell-31`` keeps them, and names outside the list are refused."""
    cells = pd.DataFrame({"Metadata_locations": ["Nucleoplasm;Cytosol", "Vesicles", " Cytosol ;"]})
    relabelled, classes = regroup_labels(cells, groups="subcell-31", label_col="Metadata_locations", names_sep=";")
    assert classes == ["Cytosol", "Nucleoplasm", "Vesicles"]
    assert list(relabelled["Metadata_locations"]) == ["0 1", "2", "0"]
    unknown = pd.DataFrame({"Metadata_locations": ["Nucleoplasm;Rods & rings"]})
    with pytest.raises(KeyError, match=r"Metadata_locations: class group mapping lacks class\(es\) \['Rods & rings'\]"):
        regroup_labels(unknown, groups="subcell-31", label_col="Metadata_locations", names_sep=";")
    with pytest.raises(KeyError, match="unknown class list 'subcell-32'"):
        regroup_labels(cells, groups="subcell-32", label_col="Metadata_locations", names_sep=";")


def test_finished_table_keeps_every_published_cell_with_a_reason() -> None:
    run = pd.DataFrame(
        {
            "method": ["Cell-DINO (this run)"] * 2 + ["ViT random init"] * 2,
            "column": ["Single Cell (MAP)", "FOV (MAP)"] * 2,
            "run_value": [50.0, 55.0, 20.0, 22.0],
            "run_std": [1.0, 1.5, 0.5, 0.7],
            "n_runs": [3] * 4,
        }
    )
    table = finish_table(
        "A", run, method_map={"Cell-DINO (this run)": "Cell-DINO"}, dataset="toy", features="vit", profile="tiny"
    )
    published = table[table["paper_value"].notna()]
    assert len(published) == 6 and published["paper_value"].tolist()[-2:] == [66.4, 71.4]
    assert published.loc[published["method"] == "Cell-DINO", "run_value"].tolist() == [50.0, 55.0]
    missing = published[published["run_value"].isna()]
    assert set(missing["method"]) == {"MAE-CellS-ProtS-Pool", "ViT-ProtS-Pool"}
    assert (missing["note"] == NOT_PROVIDED).all()
    assert table.loc[table["method"] == "ViT random init", "paper_value"].isna().all()


def test_moa_run_values_per_dose_group() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for moa in range(3):
        for compound in range(3):
            for dose in range(1, 7):
                for plate in range(2):
                    signal = np.eye(4)[moa] * dose
                    rows.append(
                        {
                            "Metadata_moa": f"m{moa}",
                            "Metadata_broad_sample": f"c{moa}{compound}",
                            "Metadata_dose_recode": dose,
                            "Metadata_pert_type": "trt",
                            "Metadata_Plate": plate,
                            **{f"emb_{i}": v for i, v in enumerate(signal + rng.normal(0, 2, 4))},
                        }
                    )
    rows.append({**rows[0], "Metadata_pert_type": "control", "Metadata_moa": "control", "Metadata_dose_recode": 0})
    values, counts = moa_run_values({"toy": pd.DataFrame(rows)}, n_runs=3, test_fraction=0.34)
    assert counts.empty
    assert set(values["column"]) == {"Low dose", "Medium dose", "Maximum dose"}
    assert (values["n_runs"] == 3).all()
    by_dose = values.set_index("column")["run_value"]
    assert by_dose["Maximum dose"] > by_dose["Low dose"]


def test_fine_tuning_epochs_are_one_count_or_one_per_task() -> None:
    with pytest.raises(ValueError, match=r"one count per task \['Cell line classification', 'Protein localization'\]"):
        finetune_run_values({}, SimpleNamespace(metadata=pd.DataFrame()), epochs={"Cell line classification": 4})
    assert finetune_run_values({}, SimpleNamespace(metadata=pd.DataFrame()), epochs=3).empty
