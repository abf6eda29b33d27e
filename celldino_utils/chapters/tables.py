"""The table chapters (supplement Tables A-D and the results chapter): profile files in, ``table_<name>.csv`` out.

Every driver takes the notebook's parameters as they are given (paths relative to the project root, resolved
here), runs the table's protocol of :mod:`celldino_utils.evaluate.protocols`, writes the long-form table beside
the figures and returns what the chapter shows. Tables A and B are one driver with two class sets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from IPython.display import Markdown

from celldino_utils.config import resolve_path
from celldino_utils.embed.model import load_embedding_model, resolve_checkpoint
from celldino_utils.evaluate.claims import claim_checks, planted_truth_checks
from celldino_utils.evaluate.paper_values import table_title
from celldino_utils.evaluate.protocols import (
    finetune_run_values,
    finish_table,
    frozen_probe_run_values,
    localisation_run_values,
    moa_run_values,
    side_by_side,
)
from celldino_utils.evaluate.splits import attach_split
from celldino_utils.io.datasets import open_fields
from celldino_utils.io.profiles import read_profiles
from celldino_utils.io.provenance import inputs_text
from celldino_utils.io.published import read_profile_table
from celldino_utils.io.tables import read_csv, write_table

#: Digits of each table's values, as the supplement prints them.
TABLE_DIGITS: Mapping[str, int] = {"A": 1, "B": 1, "C": 1, "D": 2}


@dataclass(frozen=True)
class SupplementTable:
    """One supplement table as this run regenerated it.

    Attributes
    ----------
    name : str
        ``"A"`` to ``"D"``.
    table : pandas.DataFrame
        The long-form table written to ``table_<name>.csv`` (:func:`celldino_utils.evaluate.protocols.finish_table`).
    report : str
        What the run found on the way (cells left out, classes scored, wells without an MoA...).
    details : pandas.DataFrame
        A table the chapter shows beside the report (Table D: wells without an MoA per plate); empty otherwise.
    """

    name: str
    table: pd.DataFrame
    report: str = ""
    details: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def side_by_side(self) -> pd.DataFrame:
        """The paper's values beside this run's, one row per method (:func:`side_by_side`)."""
        return side_by_side(self.table, digits=TABLE_DIGITS[self.name])


def read_localisation_cells(
    inputs: Mapping[str, str | Path],
    *,
    label_col: str,
    names_sep: str | None,
    splits_csv: str | Path | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Single-cell profiles by method for Tables A and B, each with the published split when one is given.

    Parameters
    ----------
    inputs
        Method -> profile file (our Parquet, or published CSV/CSV.gz).
    label_col, names_sep
        The labels' column; with ``names_sep`` None they are class indices and ``Metadata_class_list`` is
        required too (:func:`celldino_utils.evaluate.protocols.regroup_labels`).
    splits_csv
        A published split (``antibody,split``, SubCell's): attached as ``Metadata_split``; the cells of
        antibodies it leaves out are left out. None: no split attached (the protocol draws one per seed).

    Returns
    -------
    (cells, left_out)
        Profiles by method, and how many cells of each the published split left out (empty without one).
    """
    required: Sequence[str] = ["Metadata_Id", "Metadata_antibody", label_col]
    if names_sep is None:
        required = [*required, "Metadata_class_list"]
    cells = {method: read_profile_table(path, require=required) for method, path in inputs.items()}
    left_out: dict[str, int] = {}
    if splits_csv:
        splits = read_csv(splits_csv)
        for method, table in cells.items():
            cells[method], left_out[method] = attach_split(table, splits, source=str(splits_csv))
    return cells, left_out


def localisation_table(
    name: str,
    cells_inputs: Mapping[str, str],
    *,
    external_inputs: Mapping[str, str],
    method_map: Mapping[str, str],
    class_groups: Mapping[str, str] | str | None,
    label_col: str,
    names_sep: str | None,
    splits_csv: str,
    seeds: Sequence[int],
    max_epochs: int,
    patience: int,
    dataset: str,
    profile: str,
    out_dir: str,
    parallel_runs: int = 1,
) -> SupplementTable:
    """Table A or B: the SubCell protocol (MLP probe on frozen single-cell embeddings) on every feature set.

    Parameters
    ----------
    name
        ``"A"`` (coarse classes) or ``"B"`` (fine classes): the published table beside this run's.
    cells_inputs, external_inputs
        Method -> single-cell profile file; the external ones (published embeddings) add rows.
    class_groups
        Class -> group (the coarse granularity), a named class set, or None to keep every class.
    splits_csv
        A published ``antibody,split`` CSV, or ``""`` for a fresh antibody-grouped split per seed.
    seeds, max_epochs, patience
        One probe per seed, each stopped early on validation macro AP.
    method_map, dataset, profile, out_dir
        Run method -> published method; what the table records; the folder of ``table_<name>.csv``.
    parallel_runs
        Probes run side by side in as many processes sharing the CPU cores; 1: in turn in the kernel.
    """
    inputs = {**cells_inputs, **external_inputs}
    cells, left_out = read_localisation_cells(
        {method: resolve_path(path) for method, path in inputs.items()},
        label_col=label_col,
        names_sep=names_sep,
        splits_csv=resolve_path(splits_csv) if splits_csv else None,
    )
    report = [
        f"{method}: {len(cells[method])} cells in the published split, {n} left out by it"
        for method, n in left_out.items()
    ]
    run_values, classes = localisation_run_values(
        cells,
        groups=class_groups,
        seeds=tuple(seeds),
        label_col=label_col,
        names_sep=names_sep,
        split_col="Metadata_split" if splits_csv else None,
        max_epochs=max_epochs,
        patience=patience,
        processes=parallel_runs,
    )
    report.append(f"{len(classes)} classes: {', '.join(classes)}")
    features = inputs_text(inputs, resolve=resolve_path)  # each embedding with its model, weights hash, channels
    features += f"; labels: {label_col}; split: {splits_csv or 'antibody-grouped, one per seed'}"
    table = finish_table(name, run_values, method_map=method_map, dataset=dataset, features=features, profile=profile)
    write_table(table, resolve_path(out_dir) / f"table_{name}.csv")
    return SupplementTable(name, table, "\n".join(report))


def untuned_notes(method_notes: Mapping[str, str], finetune_methods: Sequence[str]) -> dict[str, str]:
    """Table C's notes when fine-tuning is not run: each fine-tuned method's empty cell says why."""
    reason = "fine-tuning not run (finetune = False): it needs the images and the checkpoints"
    return {**method_notes, **dict.fromkeys(finetune_methods, reason)}


def _fine_tuned(
    checkpoints: Mapping[str, str],
    *,
    hpa_data: str,
    hpa_format: str,
    hpa_read_options: Mapping[str, Any],
    **options: Any,
) -> pd.DataFrame:
    """Table C's fine-tuned rows: each checkpoint's backbone fine-tuned on the HPA fields (``options``: protocol's)."""
    images = open_fields(hpa_format, resolve_path(hpa_data), **hpa_read_options)
    backbones = {
        name: load_embedding_model(resolve_checkpoint(path), data_channels=images.layout.channels)[0]
        for name, path in checkpoints.items()
    }
    return finetune_run_values(backbones, images, **options)


def fields_table(
    fields_inputs: Mapping[str, str],
    *,
    external_inputs: Mapping[str, str],
    finetune: bool,
    finetune_checkpoints: Mapping[str, str],
    hpa_data: str,
    hpa_format: str,
    hpa_read_options: Mapping[str, Any],
    split_group_col: str,
    seeds: Sequence[int],
    method_map: Mapping[str, str],
    method_notes: Mapping[str, str],
    dataset: str,
    profile: str,
    out_dir: str,
    crop_scale: Sequence[float],
    torch_threads: int = 0,
    parallel_runs: int = 1,
    **finetune_options: Any,
) -> SupplementTable:
    """Table C: linear probes on frozen field embeddings and, with ``finetune``, whole networks fine-tuned.

    Parameters
    ----------
    fields_inputs, external_inputs
        Method -> field-embedding file (frozen rows).
    finetune, finetune_checkpoints
        Whether to fine-tune, and method -> checkpoint of each fine-tuned row; without ``finetune`` their
        cells say why they are empty (:func:`untuned_notes`).
    hpa_data, hpa_format, hpa_read_options
        The HPA fields the fine-tuned rows train and test on.
    split_group_col, seeds
        Splits grouped by this column; the frozen rows average one split per seed, the fine-tuned rows use the first.
    crop_scale
        The fine-tuning crops' area, as a (min, max) fraction of a field.
    torch_threads
        Threads of torch's CPU operations; 0 keeps torch's default.
    parallel_runs
        Fine-tunes run side by side in as many processes sharing the CPU cores; 1: in turn in the kernel.
    finetune_options
        :func:`celldino_utils.evaluate.protocols.finetune_run_values` options (``epochs``, ``lr_backbone``,
        ``crop_size``, ``resize_size``, ``validate_last``).
    """
    if torch_threads:
        torch.set_num_threads(torch_threads)
    inputs = {**fields_inputs, **external_inputs}
    required = ["Metadata_Target", "Metadata_cell_line", split_group_col]
    fields = {method: read_profiles(resolve_path(path), require=required) for method, path in inputs.items()}
    frozen = frozen_probe_run_values(fields, seeds=tuple(seeds), group_col=split_group_col)
    notes = dict(method_notes)
    if finetune:
        data = {"hpa_data": hpa_data, "hpa_format": hpa_format, "hpa_read_options": hpa_read_options}
        protocol = {
            "seed": seeds[0],
            "group_col": split_group_col,
            "crop_scale": tuple(crop_scale),
            "processes": parallel_runs,
            **finetune_options,
        }
        tuned = _fine_tuned(finetune_checkpoints, **data, **protocol)
    else:
        tuned, notes = frozen.iloc[:0], untuned_notes(method_notes, list(finetune_checkpoints))
    run_values = pd.concat([frozen, tuned], ignore_index=True)
    features = inputs_text({**inputs, **finetune_checkpoints}, resolve=resolve_path)  # with provenance
    table = finish_table(
        "C", run_values, method_map=method_map, dataset=dataset, features=features, profile=profile, notes=notes
    )
    write_table(table, resolve_path(out_dir) / "table_C.csv")
    return SupplementTable("C", table)


def cellprofiler_note(method_map: Mapping[str, str]) -> dict[str, str]:
    """Table D's note on the paper's CellProfiler row when no input is mapped to it (no published LINCS profiles)."""
    if "CellProfiler" in method_map.values():
        return {}
    return {
        "CellProfiler": "CellProfiler features of the real LINCS plates not provided; "
        "this run's cp-measure features are the row 'CellProfiler-style (cp-measure)'"
    }


def moa_table(
    wells_inputs: Mapping[str, str],
    *,
    external_inputs: Mapping[str, str],
    method_map: Mapping[str, str],
    control_col: str,
    control_value: str,
    n_runs: int,
    seed: int,
    dataset: str,
    profile: str,
    out_dir: str,
    **moa_options: Any,
) -> SupplementTable:
    """Table D: mechanism of action by dose group from sphered well profiles (Way et al. 2022's protocol).

    Parameters
    ----------
    wells_inputs, external_inputs
        Method -> well-profile file (ours, or published CellProfiler profiles as CSV/CSV.gz).
    control_col, control_value
        The control wells (DMSO), left out of the task.
    n_runs, seed
        Compound splits per method and dose group, seeded.
    moa_options
        :func:`celldino_utils.evaluate.protocols.moa_run_values` options (``test_fraction``, ``classifier``,
        ``multi_moa``).

    Returns
    -------
    SupplementTable
        With ``details``: the treated wells without an MoA or with several, per plate.
    """
    inputs = {**wells_inputs, **external_inputs}
    required = ["Metadata_broad_sample", "Metadata_dose_recode", control_col]  # MoA: the protocol checks it
    wells = {method: read_profile_table(resolve_path(path), require=required) for method, path in inputs.items()}
    control_query = f"{control_col} == {control_value!r}"
    run_values, counts = moa_run_values(wells, n_runs=n_runs, seed=seed, control_query=control_query, **moa_options)
    report = "Treated wells without an MoA or with several, per plate:" if len(counts) else "One MoA per treated well."
    features = inputs_text(inputs, resolve=resolve_path)  # each embedding with its model, weights hash, channels
    table = finish_table(
        "D",
        run_values,
        method_map=method_map,
        dataset=dataset,
        features=features,
        profile=profile,
        notes=cellprofiler_note(method_map),
    )
    write_table(table, resolve_path(out_dir) / "table_D.csv")
    return SupplementTable("D", table, report, details=counts)


@dataclass(frozen=True)
class Results:
    """The results chapter: every table, paper beside this run, and the paper's claims checked on this run.

    Attributes
    ----------
    shown : list
        For each table a Markdown heading (its title, data set and profile) then its side-by-side table.
    claims : pandas.DataFrame
        :func:`celldino_utils.evaluate.claim_checks` of the tables.
    truths : pandas.DataFrame
        :func:`celldino_utils.evaluate.planted_truth_checks` of the tables and the run's figure, correction and
        compute tables (empty without them: real data plant nothing).
    """

    shown: list[Markdown | pd.DataFrame]
    claims: pd.DataFrame
    truths: pd.DataFrame


#: What :func:`results_tables` reads from ``truth_files``, by key.
TRUTH_FILES: tuple[str, ...] = ("figure_C", "correction_cellpainting", "correction_hpa", "compute_curve")


def results_tables(table_files: Mapping[str, str], truth_files: Mapping[str, str] | None = None) -> Results:
    """Read the tables a run wrote (name -> ``table_<name>.csv``) and check the paper's claims on them.

    ``truth_files`` names the run's other result tables, to check what synthetic data planted: ``figure_C``
    (``figure_C_silhouettes.csv``), ``correction_cellpainting`` and ``correction_hpa`` (chapter 03's
    ``batch_correction_*.csv``) and ``compute_curve`` (chapter 04's ``compute_curve.csv``); any may be left out.
    """
    unknown = sorted(set(truth_files or {}) - set(TRUTH_FILES))
    if unknown:
        raise ValueError(f"truth_files: unknown key(s) {unknown}; expected some of {list(TRUTH_FILES)}")
    tables = {name: read_csv(resolve_path(path)) for name, path in table_files.items()}
    shown: list[Markdown | pd.DataFrame] = []
    for name, table in tables.items():
        heading = f"### Table {name}: {table_title(name)}\n\n"
        heading += f"Data: {table['dataset'].iloc[0]}; profile: {table['profile'].iloc[0]}."
        shown += [Markdown(heading), side_by_side(table, digits=TABLE_DIGITS[name])]
    read = {key: read_csv(resolve_path(path)) for key, path in (truth_files or {}).items()}
    corrections = {
        label: read[key]
        for key, label in (("correction_cellpainting", "Cell Painting"), ("correction_hpa", "HPA"))
        if key in read
    }
    truths = planted_truth_checks(  # the tables' margins count only where something was planted
        silhouettes=read.get("figure_C"),
        corrections=corrections,
        curve=read.get("compute_curve"),
        tables=tables if read else None,
    )
    return Results(shown, claim_checks(tables), truths)
