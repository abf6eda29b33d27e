"""Tests of the claim checks on finished tables."""

from __future__ import annotations

import pandas as pd

from celldino_utils.evaluate.claims import CLAIM_COLUMNS, claim_checks, planted_truth_checks


def _table(values: dict[tuple[str, str], float]) -> pd.DataFrame:
    rows = [{"method": m, "column": c, "run_value": v} for (m, c), v in values.items()]
    return pd.DataFrame(rows)


def test_claims_are_checked_from_the_run_values() -> None:
    doses = ("Low dose", "Medium dose", "Maximum dose")
    tables = {
        "C": _table(
            {
                ("Cell-DINO", "Protein localization"): 60.0,
                ("ViT random init", "Protein localization"): 40.0,
                ("Cell-DINO ft", "Protein localization"): 55.0,
                ("Cell-DINO+", "Protein localization"): float("nan"),
            }
        ),
        "D": _table(
            {("Cell-DINO", d): v for d, v in zip(doses, (12.0, 11.0, 30.0), strict=True)}
            | {("ViT random init", d): v for d, v in zip(doses, (13.0, 12.0, 20.0), strict=True)}
        ),
    }
    checks = claim_checks(tables)
    assert list(checks.columns) == list(CLAIM_COLUMNS)
    found = {(row.table, row.column, row.claim): row.recovered for row in checks.itertuples()}
    assert found[("C", "Protein localization", "Cell-DINO above ViT random init")]
    assert not found[("C", "Protein localization", "Cell-DINO ft above Cell-DINO")]
    assert found[("D", "Maximum dose", "Cell-DINO above ViT random init")]
    assert not found[("D", "Low dose", "Cell-DINO above ViT random init")]
    assert not found[("D", "Low, medium, maximum dose", "Cell-DINO rises with dose")]
    assert checks.loc[checks["column"] == "Low, medium, maximum dose", "this run"].item() == "12.00 ≤ 11.00 ≤ 30.00"
    assert not (checks["claim"].str.contains("Cell-DINO\\+")).any()  # no run value: no check


def test_planted_truths_are_checked_with_their_margins() -> None:
    silhouettes = pd.DataFrame(
        {
            "features": ["Cell-DINO", "Cell-DINO", "ViT random init", "ViT random init"],
            "panel": ["B", "D", "B", "D"],
            "silhouette": [0.07, 0.02, -0.01, 0.05],
        }
    )
    correction = pd.DataFrame(
        {
            "features": ["celldino", "celldino", "random", "random"],
            "method": ["none", "sphering", "none", "sphering"],
            "batch_knn_f1": [0.47, 0.39, 0.52, 0.60],
            "batch_silhouette": [-0.05, -0.01, -0.04, -0.05],
        }
    )
    curve = pd.DataFrame(
        {
            "score": ["cells", "cells", "cells", "wells"],
            "features": ["random", "supervised", "celldino", "random"],
            "value": [0.30, 0.50, 0.29, 0.2],
        }
    )
    tables = {
        "A": _table({("Cell-DINO", "Single Cell (MAP)"): 69.5, ("ViT random init", "Single Cell (MAP)"): 57.6}),
        "D": _table({("Cell-DINO", "Maximum dose"): 36.0, ("ViT random init", "Maximum dose"): 30.0}),
    }
    checks = planted_truth_checks(
        silhouettes=silhouettes, corrections={"Cell Painting": correction}, curve=curve, tables=tables
    )
    assert list(checks.columns) == list(CLAIM_COLUMNS)
    found = {(r["table"], r["column"], r["claim"]): (r["recovered"], r["this run"]) for r in checks.to_dict("records")}
    assert found[("Figure C", "B", "Cell-DINO: batches apart (silhouette > 0)")] == (True, "0.070")
    assert not found[("Figure C", "B", "ViT random init: batches apart (silhouette > 0)")][0]
    assert not found[("Figure C", "D", "Cell-DINO: MoAs apart (silhouette > 0 and above ViT random init)")][0]
    assert found[("Correction (Cell Painting)", "batch_knn_f1", "Cell-DINO: sphering lowers batch_knn_f1")][0]
    assert not found[("Correction (Cell Painting)", "batch_knn_f1", "ViT random init: sphering lowers batch_knn_f1")][0]
    assert not found[("Correction (Cell Painting)", "batch_silhouette", "Cell-DINO: sphering lowers batch_silhouette")][
        0
    ]
    learnable = [key for key in found if key[0] == "Chapter 04"]
    assert learnable == [("Chapter 04", "cells", learnable[0][2])] and found[learnable[0]] == (True, "+0.200")
    assert found[("A", "Single Cell (MAP)", "Cell-DINO at least ViT random init + 10")] == (True, "69.5 vs 57.6")
    assert found[("D", "Maximum dose", "Cell-DINO at least 1.2 x ViT random init")] == (True, "36.00 vs 30.00")
    assert planted_truth_checks().empty
    named = planted_truth_checks(corrections={"Cell Painting": correction.assign(batch_col="Metadata_Batch")})
    assert "Cell-DINO: sphering lowers batch_silhouette by Metadata_Batch" in set(named["claim"])
