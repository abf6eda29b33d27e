"""The paper's claims, checked on a run's finished tables and figures: does this run show what the paper shows?

Each check compares run values of the long-form tables that :func:`celldino_utils.evaluate.protocols.finish_table`
writes (:func:`claim_checks`), or of the figure and correction tables that chapters 03, 04 and Figure C write
(:func:`planted_truth_checks`), so the book states whether the run recovered a claim from the numbers it computed,
not from prose.
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


def _row(where: str, column: str, claim: str, shown: str, recovered: bool) -> dict[str, object]:
    return {"table": where, "column": column, "claim": claim, "this run": shown, "recovered": bool(recovered)}


def _silhouette(silhouettes: pd.DataFrame, features: str, panel: str) -> float | None:
    rows = silhouettes[(silhouettes["features"] == features) & (silhouettes["panel"] == panel)]
    return None if rows.empty else float(rows["silhouette"].iloc[0])


def planted_truth_checks(
    *,
    silhouettes: pd.DataFrame | None = None,
    corrections: Mapping[str, pd.DataFrame] | None = None,
    curve: pd.DataFrame | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    model: str = "Cell-DINO",
    baseline: str = "ViT random init",
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check what the synthetic data planted, with the margins that make a claim clear, on a run's own numbers.

    Parameters
    ----------
    silhouettes
        Figure C's silhouettes (``figure_C_silhouettes.csv``: ``features``, ``panel``, ``silhouette``): panel B
        (unprocessed Cell Painting cells by batch) shows the planted batch effect, a silhouette above 0; panel D
        (sphered wells by MoA) shows the mechanisms, ``model`` above 0 and above ``baseline``.
    corrections
        Data set name -> chapter 03's correction table (``features``, ``method``, ``batch_knn_f1``,
        ``batch_silhouette``, optionally ``batch_col`` that names the groups; one ``none`` row and one corrected
        row per feature set): correction removes batch signal, every feature set lower on both after it than before.
    curve
        Chapter 04's compute curve (``score``, ``features``, ``value``): where it has a ``supervised`` row, the
        architecture trained with the labels beats its random init by at least 0.15 F1 (the phenotypes are
        learnable with the run's compute).
    tables
        As in :func:`claim_checks`: Table A's Cell-DINO at least its random init + 10 mAP per column, Table D's
        maximum dose at least 1.2 times its random init's.
    model, baseline
        Method names of the trained model and its random init in ``tables`` and ``silhouettes``.
    names
        Feature-set key of ``corrections`` and ``curve`` (``celldino``) -> its method name; default: ``celldino``,
        ``random``, ``cellprofiler`` to ``model``, ``baseline`` and ``"CellProfiler-style (cp-measure)"``.

    Returns
    -------
    pandas.DataFrame
        One row per check (:data:`CLAIM_COLUMNS`); ``table`` names the table or figure. Inputs left as None, and
        values the run did not produce, give no row.
    """
    names = dict(names or {"celldino": model, "random": baseline, "cellprofiler": "CellProfiler-style (cp-measure)"})
    rows: list[dict[str, object]] = []
    if silhouettes is not None:
        for features in dict.fromkeys(silhouettes["features"]):
            batch = _silhouette(silhouettes, features, "B")
            if batch is not None:
                rows.append(_row("Figure C", "B", f"{features}: batches apart (silhouette > 0)", f"{batch:.3f}",
                                 batch > 0))  # fmt: skip
        own, floor = _silhouette(silhouettes, model, "D"), _silhouette(silhouettes, baseline, "D")
        if own is not None and floor is not None:
            claim = f"{model}: MoAs apart (silhouette > 0 and above {baseline})"
            rows.append(_row("Figure C", "D", claim, f"{own:.3f} vs {floor:.3f}", own > 0 and own > floor))
    for dataset, table in (corrections or {}).items():
        for features, group in table.groupby("features", sort=False):
            before, after = group[group["method"] == "none"], group[group["method"] != "none"]
            if before.empty or after.empty:
                continue
            by = f" by {before['batch_col'].iloc[0]}" if "batch_col" in before else ""
            for metric in ("batch_knn_f1", "batch_silhouette"):
                old, new = float(before[metric].iloc[0]), float(after[metric].iloc[0])
                claim = f"{names.get(features, features)}: {after['method'].iloc[0]} lowers {metric}{by}"
                rows.append(_row(f"Correction ({dataset})", metric, claim, f"{old:.3f} -> {new:.3f}", new < old))
    if curve is not None:
        for score, group in curve.groupby("score", sort=False):
            supervised, random = group[group["features"] == "supervised"], group[group["features"] == "random"]
            if supervised.empty or random.empty:
                continue
            margin = float(supervised["value"].iloc[0]) - float(random["value"].iloc[0])
            claim = f"trained with the labels at least 0.15 above {baseline} (the phenotypes are learnable)"
            rows.append(_row("Chapter 04", score, claim, f"{margin:+.3f}", margin >= 0.15))
    for name, table in (tables or {}).items():
        for column in dict.fromkeys(table["column"]):
            own, floor = _value(table, model, column), _value(table, baseline, column)
            if own is None or floor is None:
                continue
            if name == "A":
                claim = f"{model} at least {baseline} + 10"
                rows.append(_row(name, column, claim, f"{own:.1f} vs {floor:.1f}", own >= floor + 10))
            if name == "D" and column == "Maximum dose":
                claim = f"{model} at least 1.2 x {baseline}"
                rows.append(_row(name, column, claim, f"{own:.2f} vs {floor:.2f}", own >= 1.2 * floor))
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
