"""Correct every feature set of a run and measure each before and after (the batch-correction chapter).

Inputs and outputs follow :func:`celldino_utils.io.profiles.profile_path`: ``hpa_fov_<features>.parquet``
and ``cp_cell_<features>.parquet`` in the embeddings folder; ``hpa_fov_<features>_harmony.parquet``,
``cp_well_<features>_none.parquet`` and ``cp_well_<features>_sphering.parquet`` in the profiles folder. Each
output keeps the provenance record of the embeddings it was made from (model, weights SHA-256, channels fed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from celldino_utils.config import resolve_path
from celldino_utils.correct.profiling import aggregate_wells
from celldino_utils.correct.registry import correct
from celldino_utils.evaluate.batch_metrics import batch_metric_table, knn_score
from celldino_utils.evaluate.moa import MOA_SEP, describe_moa_task, moa_task_wells
from celldino_utils.io.profiles import profile_path, read_profiles, write_profiles
from celldino_utils.io.provenance import PROVENANCE_ATTR


def correct_hpa_fields(
    embeddings_dir: str | Path,
    profiles_dir: str | Path,
    *,
    feature_sets: Sequence[str],
    batch_col: str = "Metadata_cell_line",
    label_col: str = "Metadata_Target",
    **harmony_options: Any,
) -> pd.DataFrame:
    """Harmony over ``batch_col`` on the HPA field embeddings of each feature set; metrics before and after.

    ``harmony_options`` go to :func:`celldino_utils.correct.harmony` (``n_components``, ``theta``,
    ``sigma``, ``random_state``...). The localisation kNN takes its neighbour from another ``batch_col``
    value, so a score that rises means localisation is found across cell lines.

    Returns
    -------
    pandas.DataFrame
        :func:`celldino_utils.evaluate.batch_metric_table` rows, indexed by ``features`` and row number.
    """
    metrics = {}
    for name in feature_sets:
        raw = read_profiles(profile_path(embeddings_dir, dataset="hpa", level="fov", features=name))
        corrected = correct(raw, method="harmony", batch_col=batch_col, **harmony_options)
        write_profiles(
            corrected,
            profile_path(profiles_dir, dataset="hpa", level="fov", features=name, correction="harmony"),
            provenance=raw.attrs.get(PROVENANCE_ATTR),
        )
        metrics[name] = batch_metric_table(
            {"none": raw, "harmony": corrected},
            label_col=label_col,
            batch_col=batch_col,
            group_col=batch_col,
            multilabel=True,
        )
    return pd.concat(metrics, names=["features"])


def sphered_wells(
    cells: pd.DataFrame, *, control_query: str, **sphering_options: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Cell Painting chain of this chapter: well medians of the cells, then those wells sphered on the controls.

    Parameters
    ----------
    cells : pandas.DataFrame
        Single-cell profiles, ``(n_cells, n_metadata + n_features)``, with the well metadata of the data set.
    control_query : str
        Selects the control wells (``Metadata_pert_type == 'control'``).
    sphering_options
        Passed to :func:`celldino_utils.correct.sphering` (``epsilon``, ``zero_mad``, ``random_state``...).

    Returns
    -------
    wells, sphered : pandas.DataFrame
        One row per well, before and after the sphering chain.
    """
    wells = aggregate_wells(cells)
    return wells, correct(wells, method="sphering", control_query=control_query, **sphering_options)


def sphered_knn_score(
    cells: pd.DataFrame, *, label_col: str, control_query: str, multi_moa: str = "expand", **sphering_options: Any
) -> float:
    """Nearest-neighbour macro F1 of ``label_col`` among the sphered wells of ``cells`` (see :func:`sphered_wells`).

    The ``label_knn_f1`` that :func:`correct_cellpainting_wells` reports after sphering, from single cells
    ``(n_cells, n_metadata + n_features)``: every well is sphered, then the wells that
    :func:`celldino_utils.evaluate.moa.moa_task_wells` keeps (``multi_moa``) are scored.
    """
    _, sphered = sphered_wells(cells, control_query=control_query, **sphering_options)
    task, _ = moa_task_wells(sphered, multi_moa=multi_moa, moa_col=label_col, control_query=control_query)
    return knn_score(task, label_col=label_col, multilabel=multi_moa == "expand", label_sep=MOA_SEP)


def correct_cellpainting_wells(
    embeddings_dir: str | Path,
    profiles_dir: str | Path,
    *,
    feature_sets: Sequence[str],
    control_query: str,
    label_col: str = "Metadata_moa",
    plate_col: str = "Metadata_Plate",
    batch_col: str = "Metadata_Plate",
    multi_moa: str = "expand",
    **sphering_options: Any,
) -> pd.DataFrame:
    """Well medians of the Cell Painting cells of each feature set, then the sphering chain; metrics of both.

    ``sphering_options`` go to :func:`celldino_utils.correct.sphering` (``epsilon``, ``zero_mad``,
    ``random_state``...). Replicate mAP retrieves wells of the same compound and dose against the
    control wells that ``control_query`` selects. Every well is sphered and written; the metrics are computed
    on the wells :func:`celldino_utils.evaluate.moa.moa_task_wells` keeps for ``label_col`` (treated wells
    without an MoA left out; several MoAs as ``multi_moa`` says, ``"expand"`` scoring the kNN on MoA sets).
    The batch silhouette and kNN tell apart the groups of ``batch_col``: the plates, or a coarser unit that
    holds several of them (``Metadata_Batch``) where the technical effects lie between those.

    Returns
    -------
    pandas.DataFrame
        :func:`celldino_utils.evaluate.batch_metric_table` rows, indexed by ``features`` and row number, with
        ``moa_note`` (:func:`celldino_utils.evaluate.moa.describe_moa_task`: the wells left out, per plate).
    """
    metrics = {}
    for name in feature_sets:
        cells_path = profile_path(embeddings_dir, dataset="cp", level="cell", features=name)
        cells = read_profiles(cells_path, require=[plate_col, batch_col])
        wells, sphered = sphered_wells(cells, control_query=control_query, **sphering_options)
        for correction, table in (("none", wells), ("sphering", sphered)):
            path = profile_path(profiles_dir, dataset="cp", level="well", features=name, correction=correction)
            write_profiles(table, path, provenance=cells.attrs.get(PROVENANCE_ATTR))
        options = {"multi_moa": multi_moa, "moa_col": label_col, "plate_col": plate_col, "control_query": control_query}
        (scored, counts), (scored_sphered, _) = (moa_task_wells(table, **options) for table in (wells, sphered))
        metrics[name] = batch_metric_table(
            {"none": scored, "sphering": scored_sphered},
            label_col=label_col,
            batch_col=batch_col,
            multilabel=multi_moa == "expand",
            label_sep=MOA_SEP,
            replicate_options={"control_query": control_query},
        ).assign(moa_note=describe_moa_task(counts, plate_col=plate_col))
    return pd.concat(metrics, names=["features"])


@dataclass(frozen=True)
class Corrections:
    """The batch-correction chapter's two tables (:func:`correct_hpa_fields`, :func:`correct_cellpainting_wells`)."""

    hpa: pd.DataFrame
    cellpainting: pd.DataFrame


def correct_and_measure(
    embeddings_dir: str,
    profiles_dir: str,
    *,
    feature_sets: Sequence[str],
    hpa_batch_col: str,
    harmony_n_components: int,
    harmony_theta: float,
    harmony_sigma: float,
    control_col: str,
    control_value: str,
    cp_batch_col: str,
    sphering_epsilon: float,
    multi_moa: str,
    out_dir: str,
    seed: int,
) -> Corrections:
    """Harmony on HPA fields and sphering on Cell Painting wells of every feature set, measured before and after.

    ``hpa_batch_col`` is Harmony's batch variable; ``cp_batch_col`` the groups whose Cell Painting wells the batch
    metrics try to tell apart (:func:`correct_cellpainting_wells`). The corrected profiles go to ``profiles_dir``;
    both tables, rounded to 3 decimals, go to ``out_dir`` as ``batch_correction_hpa.csv`` and
    ``batch_correction_cellpainting.csv`` with the parameters that made them.
    """
    source, target = resolve_path(embeddings_dir), resolve_path(profiles_dir)
    harmony_params = {
        "batch_col": hpa_batch_col,
        "n_components": harmony_n_components,
        "theta": harmony_theta,
        "sigma": harmony_sigma,
        "random_state": seed,
    }
    hpa = correct_hpa_fields(source, target, feature_sets=feature_sets, **harmony_params).round(3)
    control_query = f"{control_col} == {control_value!r}"
    cellpainting = correct_cellpainting_wells(
        source,
        target,
        feature_sets=feature_sets,
        control_query=control_query,
        batch_col=cp_batch_col,
        multi_moa=multi_moa,
        zero_mad="drop",
        epsilon=sphering_epsilon,
        random_state=seed,
    ).round(3)
    figures = resolve_path(out_dir)
    figures.mkdir(parents=True, exist_ok=True)
    hpa_record = {key: str(value) for key, value in harmony_params.items()}
    hpa.assign(dataset="hpa-fov", **hpa_record).to_csv(figures / "batch_correction_hpa.csv")
    cellpainting.assign(
        dataset="cellpainting-wells",
        control_query=control_query,
        batch_col=cp_batch_col,
        sphering_epsilon=sphering_epsilon,
    ).to_csv(figures / "batch_correction_cellpainting.csv")
    return Corrections(hpa, cellpainting)
