"""Published values of supplement Tables A-D, and their merge with the numbers of a run.

Values are copied exactly from the paper's supplementary material. The citation
markers of Table D's method names (``OpenPhenom [8]``, ``CP-CNN [9]``, ``SubCell [6]``) are dropped.
Table C is printed with tasks as rows and methods as columns; here, as in the other tables,
``method`` holds the method and ``column`` the printed column or task. Units are those of the
paper: mean average precision in % (A, B), macro F1 in % (C), micro AUPRC x 100 (D).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

# table -> (title, column labels, {method: values in column order})
_PUBLISHED: Mapping[str, tuple[str, tuple[str, ...], dict[str, tuple[float, ...]]]] = MappingProxyType(
    {
        "A": (
            "HPAv23 protein localisation, 19 classes (SubCell protocol)",
            ("Single Cell (MAP)", "FOV (MAP)"),
            {"MAE-CellS-ProtS-Pool": (60.0, 67.4), "ViT-ProtS-Pool": (61.3, 70.0), "Cell-DINO": (66.4, 71.4)},
        ),
        "B": (
            "HPAv23 protein localisation, 31 classes (SubCell protocol)",
            ("Single Cell (MAP)", "FOV (MAP)"),
            {"MAE-CellS-ProtS-Pool": (39.9, 46.0), "ViT-ProtS-Pool": (42.1, 51.2), "Cell-DINO": (44.2, 51.4)},
        ),
        "C": (
            "HPA-FoV F1 of Cell-DINO and Cell-DINO+, frozen and fine-tuned",
            ("Cell line classification", "Protein localization"),
            {
                "Cell-DINO": (83.3, 65.0),
                "Cell-DINO ft": (90.6, 81.9),
                "Cell-DINO+": (90.0, 67.8),
                "Cell-DINO+ ft": (91.2, 83.7),
            },
        ),
        "D": (
            "LINCS Cell Painting MoA prediction by dose (AUPRC, mean of ten runs)",
            ("Low dose", "Medium dose", "Maximum dose"),
            {
                "OpenPhenom": (4.97, 5.92, 6.40),
                "CellProfiler": (5.17, 6.00, 6.70),
                "CP-CNN": (5.58, 6.49, 7.32),
                "SubCell": (5.49, 6.67, 7.65),
                "Cell-DINO": (5.47, 6.70, 7.67),
            },
        ),
    }
)
TABLE_NAMES = tuple(_PUBLISHED)
PUBLISHED_COLUMNS = ("table", "method", "column", "paper_value")
MERGED_COLUMNS = (*PUBLISHED_COLUMNS, "run_value", "run_std", "n_runs", "dataset", "features", "profile", "note")


def table_title(name: str) -> str:
    """A short description of supplement table ``name`` (``"A"`` to ``"D"``)."""
    _check_name(name)
    return _PUBLISHED[name][0]


def _check_name(name: str) -> None:
    if name not in _PUBLISHED:
        raise ValueError(f"unknown supplement table {name!r}; choose one of {TABLE_NAMES}")


def published_table(name: str) -> pd.DataFrame:
    """The published values of supplement table ``name`` in long form.

    Parameters
    ----------
    name
        ``"A"``, ``"B"``, ``"C"`` or ``"D"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``table``, ``method``, ``column``, ``paper_value``; one row per printed cell, methods
        then columns in the order printed (Table C: see the module notes).
    """
    _check_name(name)
    _, columns, rows = _PUBLISHED[name]
    records = [
        {"table": name, "method": method, "column": column, "paper_value": value}
        for method, values in rows.items()
        for column, value in zip(columns, values, strict=True)
    ]
    return pd.DataFrame.from_records(records, columns=list(PUBLISHED_COLUMNS))


def _check_published(published: pd.DataFrame) -> str:
    missing = [c for c in PUBLISHED_COLUMNS if c not in published.columns]
    if missing:
        raise ValueError(f"merge_run(published): missing column(s) {missing}; use published_table()")
    tables = published["table"].unique()
    if len(tables) != 1:
        raise ValueError(f"merge_run(published): needs exactly one table, found {list(tables)}")
    return str(tables[0])


def _check_run(run: pd.DataFrame, published: pd.DataFrame, method_map: Mapping[str, str]) -> None:
    """Raise on unknown columns, duplicate cells, a bad mapping or an unmapped paper name."""
    missing = [c for c in ("method", "column", "run_value") if c not in run.columns]
    if missing:
        raise ValueError(f"merge_run(run_values): missing column(s) {missing}")
    unknown = sorted(set(run["column"]) - set(published["column"]))
    if unknown:
        raise ValueError(
            f"merge_run(run_values): column(s) {unknown} not in the table {list(published['column'].unique())}"
        )
    twice = run[run.duplicated(["method", "column"], keep=False)]
    if len(twice):
        raise ValueError(
            f"merge_run(run_values): more than one value for {twice[['method', 'column']].values.tolist()}"
        )
    paper_methods = set(published["method"])
    bad = {k: v for k, v in method_map.items() if v not in paper_methods or k not in set(run["method"])}
    if bad:
        raise ValueError(
            f"merge_run: method_map entries {bad} must map a run method present in run_values to a published "
            f"method {sorted(paper_methods)}"
        )
    targets = pd.Series(list(method_map.values()))
    if targets.duplicated().any():
        raise ValueError(
            f"merge_run: method_map maps several run methods to {sorted(set(targets[targets.duplicated()]))}"
        )
    clash = sorted((set(run["method"]) - set(method_map)) & paper_methods)
    if clash:
        raise ValueError(
            f"merge_run: run method(s) {clash} carry a published name but are not in method_map; "
            f"map them explicitly or rename them (e.g. '<name> (this run)')"
        )


def _join_notes(*parts: object) -> str:
    return "; ".join(str(p) for p in parts if isinstance(p, str) and p)


def merge_run(
    published: pd.DataFrame,
    run_values: pd.DataFrame,
    *,
    dataset: str,
    features: str,
    profile: str,
    method_map: Mapping[str, str],
    notes: Mapping[str | tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """Put the values of a run next to the published ones, every published cell kept.

    Parameters
    ----------
    published
        One table from :func:`published_table`.
    run_values
        Long form ``method``, ``column``, ``run_value`` and optionally ``run_std``, ``n_runs``,
        ``note`` (e.g. why a value is NaN). Columns must be the table's; one row per method and column.
    dataset, features, profile
        Description of the run (data set, feature extractor, config profile), set on every row.
    method_map
        ``{run method: published method}``, the only way a run value lands on a published row (no
        name matching). Unmapped run methods become extra rows with an empty ``paper_value``; an
        unmapped run method that carries a published name raises.
    notes
        Notes keyed by published method (all its columns) or ``(method, column)``. Every published
        cell without a run value needs one, saying why it was not computed.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, method, column, paper_value, run_value, run_std, n_runs, dataset,
        features, profile, note``: the published cells in printed order, then run-only methods.
        A mapped run method with another name is recorded in ``note``.
    """
    table = _check_published(published)
    _check_run(run_values, published, method_map)
    notes = dict(notes or {})
    known = set(published["method"]) | set(run_values["method"])
    stray = [key for key in notes if (key[0] if isinstance(key, tuple) else key) not in known]
    if stray:
        raise ValueError(f"merge_run: notes for unknown method(s) {stray}; known: {sorted(known)}")
    run = run_values.reindex(columns=["method", "column", "run_value", "run_std", "n_runs", "note"])
    is_mapped = run["method"].isin(list(method_map))
    mapped = run[is_mapped].assign(method=run.loc[is_mapped, "method"].map(method_map))
    merged = published[list(PUBLISHED_COLUMNS)].merge(
        mapped, on=["method", "column"], how="left", validate="one_to_one"
    )
    renamed = {paper: f"run method {name!r}" for name, paper in method_map.items() if name != paper}
    merged["note"] = [
        _join_notes(
            note, notes.get(method), notes.get((method, column)), renamed.get(method) if pd.notna(value) else ""
        )
        for method, column, note, value in merged[["method", "column", "note", "run_value"]].itertuples(index=False)
    ]
    extra = run[~is_mapped].assign(table=table, paper_value=float("nan"))
    extra["note"] = [
        _join_notes(note, notes.get(method), notes.get((method, column)))
        for method, column, note in extra[["method", "column", "note"]].itertuples(index=False)
    ]
    out = pd.concat([merged, extra[list(merged.columns)]], ignore_index=True)
    silent = out[out["run_value"].isna() & (out["note"] == "")]
    if len(silent):
        raise ValueError(
            f"merge_run: cell(s) {silent[['method', 'column']].values.tolist()} of table {table} have no run value "
            f"and no note; pass notes={{method or (method, column): 'why'}} or a note column in run_values"
        )
    out = out.assign(dataset=dataset, features=features, profile=profile)
    out["n_runs"] = out["n_runs"].astype("Int64")
    return out[list(MERGED_COLUMNS)].astype({"paper_value": float, "run_value": float, "run_std": float})
