"""Tests of the claim checks on finished tables."""

from __future__ import annotations

import pandas as pd

from celldino_utils.evaluate.claims import CLAIM_COLUMNS, claim_checks


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
