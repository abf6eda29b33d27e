"""The compute chapter: every score of the compute curve, the supervised point beside it, the figure and its table."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from celldino_utils.chapters.correction import sphered_knn_score
from celldino_utils.chapters.curve import (
    CurveScore,
    compute_curve,
    heldout_probe_score,
    learnability_margin,
    supervised_reference,
)
from celldino_utils.chapters.embedding import job_of
from celldino_utils.chapters.shown import shown_figure, shown_paths
from celldino_utils.config import resolve_path
from celldino_utils.evaluate.batch_metrics import knn_score
from celldino_utils.io.tables import write_table
from celldino_utils.plot import plot_compute_curve

#: How the figure names each feature set of the curve.
FEATURE_NAMES = {
    "celldino": "Cell-DINO",
    "random": "ViT random init",
    "cellprofiler": "CellProfiler-style (cp-measure)",
    "supervised": "ViT random init, trained with the labels",
}


@dataclass(frozen=True)
class ComputeCurve:
    """The compute chapter's results.

    Attributes
    ----------
    points : pandas.DataFrame
        Every point of the self-supervised curves and their levels (:func:`compute_curve`), to 3 decimals.
    cells : pandas.DataFrame
        The single-cell panel's points, with the supervised one (empty without ``cell_probe_group_col``).
    report : str
        The learnability margin: trained with the labels minus random init, where both were measured.
    figure : matplotlib.figure.Figure
        The curves, saved as ``compute_curve.png`` and ``.pdf`` and closed.
    """

    points: pd.DataFrame
    cells: pd.DataFrame
    report: str
    figure: Figure


def curve_scores(
    *,
    hpa: dict[str, Any],
    cellpainting: dict[str, Any],
    localisation_col: str,
    knn_group_col: str,
    moa_col: str,
    multi_moa: str,
    control_query: str,
    sphering_epsilon: float,
    cell_probe_group_col: str | None,
    cell_probe_query: str,
    probe_n_jobs: int,
    seed: int,
    cell_probe_held_out: list[str] | None = None,
) -> list[CurveScore]:
    """The curve's scores: localisation of HPA fields, MoA of sphered wells and, with a group column, of cells.

    ``hpa`` and ``cellpainting`` are :func:`celldino_utils.chapters.embedding.job_of` arguments (without the
    dataset and level). The cell-level score holds out one ``cell_probe_group_col`` value at a time: each of
    ``cell_probe_held_out``, or every value when it is None.
    """
    localisation = CurveScore(
        f"Localisation: nearest field from another {knn_group_col.removeprefix('Metadata_')} (macro F1)",
        job_of("hpa", "fov", **hpa),
        partial(knn_score, label_col=localisation_col, group_col=knn_group_col, multilabel=True),
    )
    sphering = {"zero_mad": "drop", "epsilon": sphering_epsilon, "random_state": seed}
    moa = CurveScore(
        "Mechanism of action: nearest sphered well (macro F1)",
        job_of("cp", "cell", **cellpainting),
        partial(sphered_knn_score, label_col=moa_col, control_query=control_query, multi_moa=multi_moa, **sphering),
    )
    moa_cells = CurveScore(
        "Mechanism of action: single cells at the two top doses, on a "
        f"{str(cell_probe_group_col).removeprefix('Metadata_').lower()} left out (linear probe, macro F1)",
        moa.job,
        partial(
            heldout_probe_score,
            label_col=moa_col,
            group_col=cell_probe_group_col,
            query=cell_probe_query,
            held_out=cell_probe_held_out,
            seed=seed,
            n_jobs=probe_n_jobs,
        ),
    )
    return [localisation, moa] + ([moa_cells] if cell_probe_group_col else [])


def draw_compute_curve(
    *,
    hpa_data: str,
    hpa_format: str,
    hpa_read_options: dict[str, Any],
    hpa_checkpoint: str,
    cellpainting_data: str,
    cellpainting_format: str,
    cellpainting_read_options: dict[str, Any],
    cellpainting_checkpoint: str,
    cellpainting_cell_crop_size: int,
    embeddings_dir: str,
    curve_dir: str,
    control_col: str,
    control_value: str,
    knn_group_col: str,
    moa_col: str,
    sphering_epsilon: float,
    cell_probe_group_col: str | None,
    cell_probe_query: str,
    cell_probe_held_out: list[str] | None,
    supervised_steps: int | None,
    supervised_batch_size: int,
    supervised_lr_backbone: float,
    supervised_warmup_epochs: float,
    out_dir: str,
    seed: int,
    batch_size: int,
    num_workers: int,
    **score_options: Any,
) -> ComputeCurve:
    """The compute chapter: each kept backbone scored as the final model is, the supervised point, the figure.

    Parameters
    ----------
    hpa_*, cellpainting_*
        The data each score embeds and the run's final model (a checkpoint, or a released name).
    embeddings_dir, curve_dir
        Chapter 02's embeddings (final model and levels), and where the kept backbones' embeddings go.
    control_col, control_value, sphering_epsilon
        The control wells that sphering is fitted on, and its epsilon.
    knn_group_col, moa_col
        The localisation neighbour comes from another value of ``knn_group_col``; the mechanism's column.
    cell_probe_group_col, cell_probe_query, cell_probe_held_out
        The single-cell panel holds out one value of this column at a time (each of ``cell_probe_held_out``, or
        every value when it is None), on the cells of the query; a group column of None leaves the panel and the
        supervised point out. Each held-out value is one supervised fine-tune: the panel's cost.
    supervised_steps, supervised_batch_size, supervised_lr_backbone, supervised_warmup_epochs
        The supervised point (:func:`supervised_reference`): steps (None: the run's last step; 0: no point),
        batch, peak learning rate of the ViT and warm-up.
    score_options
        Further :func:`curve_scores` options (``localisation_col``, ``multi_moa``, ``probe_n_jobs``).
    """
    control_query = f"{control_col} == {control_value!r}"
    hpa = {"format": hpa_format, "data": hpa_data, "checkpoint": hpa_checkpoint, "read_options": hpa_read_options}
    cellpainting = {
        "format": cellpainting_format,
        "data": cellpainting_data,
        "checkpoint": cellpainting_checkpoint,
        "crop_size": cellpainting_cell_crop_size,
        "read_options": cellpainting_read_options,
    }
    probe = {"cell_probe_group_col": cell_probe_group_col, "cell_probe_query": cell_probe_query, "seed": seed}
    probe |= {"cell_probe_held_out": cell_probe_held_out}
    probe |= {"knn_group_col": knn_group_col, "moa_col": moa_col, "sphering_epsilon": sphering_epsilon}
    scores = curve_scores(hpa=hpa, cellpainting=cellpainting, control_query=control_query, **probe, **score_options)
    supervised = {
        "batch_size": supervised_batch_size,
        "lr_backbone": supervised_lr_backbone,
        "warmup_epochs": supervised_warmup_epochs,
    }
    options = {"batch_size": batch_size, "num_workers": num_workers, "seed": seed, "progress": False}
    folders = {"embeddings_dir": resolve_path(embeddings_dir), "out_dir": resolve_path(curve_dir)}
    curve = compute_curve(scores, **folders, **options)
    points = shown_paths(curve.drop(columns="file"), ("data", "model")).round(3)
    cells, report = points.iloc[:0], ""
    if cell_probe_group_col:
        cell_score = scores[-1]
        options = {"query": cell_probe_query, "held_out": cell_probe_held_out, "seed": seed, **supervised}
        reference = supervised_reference(
            cell_score.name,
            cell_score.job,
            label_col=moa_col,
            group_col=cell_probe_group_col,
            steps=supervised_steps,
            resize_size=None,
            crop_size=cellpainting_cell_crop_size,
            **options,
        )
        curve = pd.concat([curve, reference], ignore_index=True)
        margin = learnability_margin(curve, cell_score.name)
        if margin is not None:
            report = f"learnability: trained with the labels minus random init = {margin:+.3f} F1"
        cells = curve.loc[curve["score"] == cell_score.name].drop(columns="file")
        cells = shown_paths(cells, ("data", "model")).round(3)
    record = {"knn_group_col": knn_group_col, "control_query": control_query, "sphering_epsilon": sphering_epsilon}
    record |= {"cell_probe_group_col": cell_probe_group_col, "cell_probe_query": cell_probe_query}
    record |= {"cell_probe_held_out": str(cell_probe_held_out)}
    record |= {f"supervised_{key}": value for key, value in supervised.items()}
    figure = _write_curve(curve, out_dir=out_dir, provenance={**record, "seed": seed})
    return ComputeCurve(points, cells, report, figure)


def _write_curve(curve: pd.DataFrame, *, out_dir: str, provenance: dict[str, Any]) -> Figure:
    """Save the curve's figure (closed) and ``compute_curve.csv``: every point with ``provenance`` beside it."""
    figure = shown_figure(plot_compute_curve(curve, names=FEATURE_NAMES), out_dir, "compute_curve")
    paper = "none: the paper reports its final models only (Tables A-D)"
    write_table(curve.assign(**provenance, paper=paper), resolve_path(out_dir) / "compute_curve.csv")
    return figure
