"""Run values of supplement Tables A-D by the paper's protocols, and the finished long-form tables.

Each ``*_run_values`` function returns this run's numbers in long form (``method, column,
run_value, run_std, n_runs``), keyed by the method names the caller chose; :func:`finish_table`
puts them beside the published values through an explicit ``method_map``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from celldino_utils.config.workers import worker_pool
from celldino_utils.evaluate.finetune import finetune_f1
from celldino_utils.evaluate.linear_probe import linear_probe_f1
from celldino_utils.evaluate.mlp_probe import evaluate_localisation_map
from celldino_utils.evaluate.moa import describe_moa_task, moa_by_dose, moa_task_wells, summarise_moa_runs
from celldino_utils.evaluate.paper_values import merge_run, published_table
from celldino_utils.evaluate.splits import grouped_split
from celldino_utils.io.classes import CLASS_LISTS
from celldino_utils.io.profiles import CONTROL_QUERY

NOT_PROVIDED = "embeddings not provided: pass this model's profiles (our Parquet schema) as an external input"

# Columns of Table D by dose group of celldino_utils.evaluate.moa.DOSE_GROUPS.
DOSE_COLUMNS = {"low": "Low dose", "medium": "Medium dose", "maximum": "Maximum dose"}


def _summary(method: str, column: str, values: list[float]) -> dict[str, Any]:
    return {
        "method": method,
        "column": column,
        "run_value": float(np.mean(values)),
        "run_std": float(np.std(values, ddof=1)) if len(values) > 1 else np.nan,
        "n_runs": len(values),
    }


def regroup_labels(
    profiles: pd.DataFrame,
    *,
    groups: Mapping[str, str] | str | None,
    label_col: str = "Metadata_Target",
    class_list_col: str = "Metadata_class_list",
    names_sep: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Relabel multilabel targets into a new class set and return it with the class names.

    Parameters
    ----------
    groups
        Source class name -> new class name (a coarser granularity, or another naming); the name of a class
        list of :data:`celldino_utils.io.classes.CLASS_LISTS` (``subcell-31``: keep the names, all of which
        must be in that list); or None (keep the classes present in the data).
    label_col, class_list_col
        Labels as class indices (``"0 16"``) into the class list named row by row in ``class_list_col``.
    names_sep
        When given, ``label_col`` holds class names separated by it instead (``"Nucleoplasm;Cytosol"``, as
        the HPA location annotations) and ``class_list_col`` is not read.

    Returns
    -------
    (relabelled, classes)
        ``label_col`` becomes space-separated indices into ``classes``, the sorted new class names.

    Raises
    ------
    KeyError
        Naming the source classes that ``groups`` does not map (or that its class list lacks).
    """
    if names_sep is None:
        names = [
            [CLASS_LISTS[cl][int(i)] for i in str(t).split()]
            for t, cl in zip(profiles[label_col], profiles[class_list_col], strict=True)
        ]
    else:
        names = [[n.strip() for n in str(t).split(names_sep) if n.strip()] for t in profiles[label_col]]
    if isinstance(groups, str):
        if groups not in CLASS_LISTS:
            raise KeyError(f"class groups: unknown class list {groups!r}; known: {sorted(CLASS_LISTS)}")
        groups = {name: name for name in CLASS_LISTS[groups]}
    if groups is not None:
        missing = sorted({n for row in names for n in row} - set(groups))
        if missing:
            raise KeyError(f"{label_col}: class group mapping lacks class(es) {missing}")
        names = [[groups[n] for n in row] for row in names]
    classes = sorted({n for row in names for n in row})
    index = {name: i for i, name in enumerate(classes)}
    relabelled = profiles.copy()
    relabelled[label_col] = [" ".join(str(k) for k in sorted({index[n] for n in row})) for row in names]
    return relabelled, classes


def localisation_run_values(
    cells_by_method: Mapping[str, pd.DataFrame],
    *,
    groups: Mapping[str, str] | str | None,
    seeds: tuple[int, ...] = (0, 1, 2),
    label_col: str = "Metadata_Target",
    names_sep: str | None = None,
    processes: int = 1,
    **probe_options: Any,
) -> tuple[pd.DataFrame, list[str]]:
    """Tables A and B: single-cell and FoV mAP of the SubCell MLP probe, one run per seed.

    ``groups``, ``label_col`` and ``names_sep`` say which classes are scored (:func:`regroup_labels`);
    ``probe_options`` go to :func:`celldino_utils.evaluate.mlp_probe.evaluate_localisation_map` (with
    ``split_col``, every seed uses that fixed split and only the probe's seed changes). The probes run side by
    side in ``processes`` worker processes (:func:`celldino_utils.config.workers.worker_pool`).

    Returns the run values (columns ``Single Cell (MAP)`` and ``FOV (MAP)``, mean and std over
    seeds) and the class names evaluated.
    """
    started, classes = {}, []
    with worker_pool(processes) as pool:
        for method, cells in cells_by_method.items():
            relabelled, classes = regroup_labels(cells, groups=groups, label_col=label_col, names_sep=names_sep)
            started[method] = [
                pool.submit(
                    evaluate_localisation_map,
                    relabelled,
                    n_classes=len(classes),
                    seed=seed,
                    label_col=label_col,
                    **probe_options,
                )  # fmt: skip
                for seed in seeds
            ]
        rows = []
        for method, futures in started.items():
            runs = [future.result() for future in futures]
            rows.append(_summary(method, "Single Cell (MAP)", [r["single_cell_map"] for r in runs]))
            rows.append(_summary(method, "FOV (MAP)", [r["fov_map"] for r in runs]))
    return pd.DataFrame(rows), classes


def frozen_probe_run_values(
    fields_by_method: Mapping[str, pd.DataFrame],
    *,
    seeds: tuple[int, ...] = (0, 1, 2),
    group_col: str = "Metadata_antibody",
) -> pd.DataFrame:
    """Table C, frozen rows: linear-probe macro F1 x 100 for cell line and protein localisation.

    Splits are grouped by ``group_col`` (no antibody in train and test); validation fields join training.
    """
    rows = []
    for method, fields in fields_by_method.items():
        for column, (label_col, multilabel) in TABLE_C_TASKS.items():
            values = []
            for seed in seeds:
                sep = " " if multilabel else None
                split = grouped_split(fields, group_col=group_col, seed=seed, label_col=label_col, label_sep=sep)
                train, test = fields[split != "test"], fields[split == "test"]
                values.append(100 * linear_probe_f1(train, test, label_col=label_col, multilabel=multilabel, seed=seed))
            rows.append(_summary(method, column, values))
    return pd.DataFrame(rows)


TABLE_C_TASKS = {
    "Cell line classification": ("Metadata_cell_line", False),
    "Protein localization": ("Metadata_Target", True),
}


def finetune_run_values(
    backbones: Mapping[str, torch.nn.Module],
    fields: Dataset,
    *,
    seed: int = 0,
    group_col: str = "Metadata_antibody",
    epochs: int | Mapping[str, int] = 6,
    processes: int = 1,
    **finetune_options: Any,
) -> pd.DataFrame:
    """Table C, fine-tuned rows: test macro F1 x 100 of each backbone fine-tuned on each task (one split).

    ``fields`` is a field dataset with ``.metadata``; splits are grouped by ``group_col`` as for the
    frozen rows. ``epochs`` is one count for both tasks or one per task (the keys of :data:`TABLE_C_TASKS`):
    the cell lines are learnt in far fewer epochs than the localisation. The fine-tunes run side by side in
    ``processes`` worker processes (:func:`celldino_utils.config.workers.worker_pool`), the longest first. The
    backbones are not modified.
    """
    per_task = dict(epochs) if isinstance(epochs, Mapping) else dict.fromkeys(TABLE_C_TASKS, epochs)
    if set(per_task) != set(TABLE_C_TASKS):
        raise ValueError(f"epochs: give one count per task {list(TABLE_C_TASKS)}, got {sorted(per_task)}")
    meta = fields.metadata
    runs = [(method, column) for method in backbones for column in TABLE_C_TASKS]
    with worker_pool(processes) as pool:
        started = {}
        for method, column in sorted(runs, key=lambda run: -per_task[run[1]]):
            label_col, multilabel = TABLE_C_TASKS[column]
            sep = " " if multilabel else None
            split = grouped_split(meta, group_col=group_col, seed=seed, label_col=label_col, label_sep=sep)
            started[method, column] = pool.submit(
                finetune_f1, backbones[method], fields, label_col=label_col, multilabel=multilabel, split=split,
                seed=seed, epochs=per_task[column], **finetune_options,
            )  # fmt: skip
        rows = [_summary(method, column, [100 * started[method, column].result()["f1"]]) for method, column in runs]
    return pd.DataFrame(rows)


def moa_run_values(
    wells_by_method: Mapping[str, pd.DataFrame],
    *,
    n_runs: int = 10,
    seed: int = 0,
    control_query: str = CONTROL_QUERY,
    multi_moa: str = "expand",
    moa_col: str = "Metadata_moa",
    plate_col: str = "Metadata_Plate",
    **moa_options: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table D: micro AUPRC x 100 of MoA prediction by dose group, mean and std over ``n_runs`` splits.

    The treated wells (not ``control_query``) enter the task as
    :func:`celldino_utils.evaluate.moa.moa_task_wells` selects them: wells of compounds without an MoA are left
    out, those with several are used as ``multi_moa`` says. ``moa_options`` go to
    :func:`celldino_utils.evaluate.moa.moa_by_dose`.

    Returns
    -------
    (run_values, counts)
        The run values, each row's ``note`` saying which wells were left out or kept with several MoAs, per
        plate (:func:`~celldino_utils.evaluate.moa.describe_moa_task`); and those counts, one row per method,
        plate and reason (``method`` then the columns of ``moa_task_wells``'s counts).
    """
    rows, counts = [], []
    for method, wells in wells_by_method.items():
        treated = wells.query(f"not ({control_query})")
        task, counted = moa_task_wells(treated, multi_moa=multi_moa, moa_col=moa_col, plate_col=plate_col)
        note = describe_moa_task(counted, plate_col=plate_col)
        counted.insert(0, "method", method)
        counts.append(counted)
        runs = moa_by_dose(task, n_runs=n_runs, seed=seed, moa_col=moa_col, **moa_options)
        for _, row in summarise_moa_runs(runs).iterrows():
            rows.append(
                {
                    "method": method,
                    "column": DOSE_COLUMNS[row["dose_group"]],
                    "run_value": row["auprc_mean"],
                    "run_std": row["auprc_std"],
                    "n_runs": int(row["n_runs"]),
                    "note": note,
                }
            )
    return pd.DataFrame(rows), pd.concat(counts, ignore_index=True) if counts else pd.DataFrame()


def finish_table(
    name: str,
    run_values: pd.DataFrame,
    *,
    method_map: Mapping[str, str],
    dataset: str,
    features: str,
    profile: str,
    notes: Mapping[str | tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """The long-form table ``name``: every published cell with this run's value beside it.

    Entries of ``method_map`` whose run method has no values are ignored; published methods that
    no run method maps to get the note :data:`NOT_PROVIDED` unless ``notes`` says otherwise.
    """
    published = published_table(name)
    method_map = {run: paper for run, paper in method_map.items() if run in set(run_values["method"])}
    mapped = set(method_map.values())
    notes = {**{m: NOT_PROVIDED for m in published["method"].unique() if m not in mapped}, **dict(notes or {})}
    return merge_run(
        published, run_values, dataset=dataset, features=features, profile=profile, method_map=method_map, notes=notes
    )


def side_by_side(table: pd.DataFrame, *, digits: int = 1) -> pd.DataFrame:
    """A wide view of a finished table for reading: one row per method, ``paper`` and ``this run`` per column.

    Values are shown with ``digits`` decimals (as printed in the supplement: 1, or 2 for Table D);
    this run's cell reads ``mean ± std (n)``; an empty cell shows its note's first words.
    """

    def run_cell(row: pd.Series) -> str:
        if pd.isna(row["run_value"]):
            return f"— ({str(row['note']).split(':')[0]})" if isinstance(row["note"], str) else "—"
        std = "" if pd.isna(row["run_std"]) else f" ± {row['run_std']:.{digits}f}"
        return f"{row['run_value']:.{digits}f}{std} (n={int(row['n_runs'])})"

    view = table.assign(paper=table["paper_value"].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}"))
    view["this run"] = view.apply(run_cell, axis=1)
    wide = view.pivot(index="method", columns="column", values=["paper", "this run"]).swaplevel(axis=1)
    methods = list(dict.fromkeys(table["method"]))
    columns = list(dict.fromkeys(table["column"]))
    return wide.reindex(index=methods, columns=pd.MultiIndex.from_product([columns, ["paper", "this run"]]))
