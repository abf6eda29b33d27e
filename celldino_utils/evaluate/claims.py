"""The paper's claims, checked on a run's finished tables: does this run show what the paper shows?

Each check compares two run values of the long-form tables that :func:`celldino_utils.evaluate.protocols.finish_table`
writes, so the book states whether the run recovered a claim from the numbers it computed, not from prose.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

#: Columns of the claims table, one row per check.
CLAIM_COLUMNS: tuple[str, ...] = ("table", "column", "claim", "this run", "recovered")


def _value(table: pd.DataFrame, method: str, column: str) -> float | None:
    rows = table[(table["method"] == method) & (table["column"] == column)]
    return None if rows.empty or rows["run_value"].isna().all() else float(rows["run_value"].iloc[0])


def _above(name: str, table: pd.DataFrame, upper: str, lower: str, *, digits: int) -> list[dict[str, object]]:
    """One check per column of ``table`` where both methods have a run value: ``upper`` above ``lower``."""
    rows = []
    for column in dict.fromkeys(table["column"]):
        high, low = _value(table, upper, column), _value(table, lower, column)
        if high is None or low is None:
            continue
        rows.append(
            {
                "table": name,
                "column": column,
                "claim": f"{upper} above {lower}",
                "this run": f"{high:.{digits}f} vs {low:.{digits}f}",
                "recovered": high > low,
            }
        )
    return rows


def claim_checks(
    tables: Mapping[str, pd.DataFrame], *, model: str = "Cell-DINO", baseline: str = "ViT random init"
) -> pd.DataFrame:
    """Check the claims every supplement table carries on this run's values.

    Parameters
    ----------
    tables
        Table name (``"A"`` ... ``"D"``) -> its finished long-form table (``method``, ``column``, ``run_value``...).
    model, baseline
        The trained model's method name, and the same architecture at random init.

    Returns
    -------
    pandas.DataFrame
        One row per check (:data:`CLAIM_COLUMNS`): in every table the trained model above its random init; in
        Table C each fine-tuned model above its frozen probe; in Table D the trained model's score rising from
        low to medium to maximum dose (the paper's trend). ``recovered`` is True where this run shows it; checks
        whose values the run did not produce are left out.
    """
    rows: list[dict[str, object]] = []
    for name, table in tables.items():
        digits = 2 if name == "D" else 1
        rows += _above(name, table, model, baseline, digits=digits)
        if name == "C":
            for tuned in (m for m in dict.fromkeys(table["method"]) if str(m).endswith(" ft")):
                rows += _above(name, table, tuned, tuned.removesuffix(" ft"), digits=digits)
        if name == "D":
            doses = [_value(table, model, column) for column in ("Low dose", "Medium dose", "Maximum dose")]
            if None not in doses:
                rows.append(
                    {
                        "table": name,
                        "column": "Low, medium, maximum dose",
                        "claim": f"{model} rises with dose",
                        "this run": " ≤ ".join(f"{v:.2f}" for v in doses),
                        "recovered": doses[0] <= doses[1] <= doses[2],
                    }
                )
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
