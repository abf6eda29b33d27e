"""Embed every data set of the companion with a trained model and with the same architecture at random init."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from IPython.display import Markdown

from celldino_utils.augment import EvalTransform
from celldino_utils.config import resolve_path
from celldino_utils.config.workers import worker_pool
from celldino_utils.correct.profiling import aggregate_wells
from celldino_utils.embed.cellprofiler import cellprofiler_profiles
from celldino_utils.embed.model import RANDOM_INIT, random_init_twin, resolve_checkpoint
from celldino_utils.embed.pipeline import embed_data
from celldino_utils.evaluate.batch_metrics import knn_score
from celldino_utils.io.datasets import open_cells
from celldino_utils.io.profiles import is_feature, profile_path, read_profiles, write_profiles


@dataclass(frozen=True)
class EmbedJob:
    """One data set embedded at one level: where it is, how it is laid out, and which model embeds it.

    Attributes
    ----------
    dataset : str
        Short name in the output file names (``hpa``, ``cp``): ``<dataset>_<level>_<features>.parquet``.
    level : str
        ``fov`` (one row per field) or ``cell`` (one row per single cell).
    format : str
        On-disk format (``hpa-kaggle``, ``hpa-fov``, ``cellpainting``).
    data_dir : Path
        The data set's folder.
    checkpoint : str or Path
        A checkpoint of our training, a released model's name or a model card.
    crop_size : int
        Single-cell crop side, in pixels of the model's training scale (cells only).
    read_options : dict
        Options of the format's index reader (``labels_csv``, ``platemap_csv``, ``channel_map``...).
    """

    dataset: str
    level: str
    format: str
    data_dir: Path
    checkpoint: str | Path
    crop_size: int = 64
    read_options: dict[str, Any] = field(default_factory=dict)


def embed_suite(
    jobs: Sequence[EmbedJob],
    *,
    out_dir: str | Path,
    features: str = "celldino",
    random_init: str | None = "random",
    processes: int = 1,
    **options: Any,
) -> pd.DataFrame:
    """Embed every job with its model and, unless ``random_init`` is None, with the same architecture at random init.

    Parameters
    ----------
    jobs
        What to embed (HPA fields and cells may come from two data sets, as at paper scale).
    features
        Name of the trained feature set in the file names (``hpa_fov_<features>.parquet``).
    random_init
        Name of the random-init feature set, or None to skip it. Its architecture is the one recorded beside
        each checkpoint, or declared by a released model's name.
    processes
        Embeddings made side by side in as many worker processes sharing the cores
        (:func:`celldino_utils.config.workers.worker_pool`); 1: in turn, here.
    options
        Passed to :func:`celldino_utils.embed.embed_data` (batch size, workers, device, seed...).

    Returns
    -------
    pandas.DataFrame
        One row per file written: ``dataset, level, features, file, rows, dims, seconds``.
    """
    return embed_plan(_suite_plan(jobs, features, random_init), out_dir=out_dir, processes=processes, **options)


def _suite_plan(
    jobs: Sequence[EmbedJob], features: str, random_init: str | None
) -> list[tuple[EmbedJob, str, str | Path, dict[str, Any]]]:
    """:func:`embed_plan`'s items for each job's model and, unless ``random_init`` is None, its random-init twin."""
    plan = []
    for job in jobs:
        plan.append((job, features, job.checkpoint, {}))
        if random_init:
            plan.append((job, random_init, RANDOM_INIT, random_init_twin(job.checkpoint)))
    return plan


def embed_plan(
    plan: Sequence[tuple[EmbedJob, str, str | Path, dict[str, Any]]],
    *,
    out_dir: str | Path,
    processes: int = 1,
    **options: Any,
) -> pd.DataFrame:
    """Make each planned embedding, side by side in ``processes`` worker processes (1: in turn, here).

    Parameters
    ----------
    plan
        ``(job, features, checkpoint, architecture)``: the data, the feature-set name in the file name, the model
        (``job.checkpoint`` or :data:`~celldino_utils.embed.model.RANDOM_INIT`) and its architecture keys.
    options
        Passed to :func:`celldino_utils.embed.embed_data`.

    Returns
    -------
    pandas.DataFrame
        As :func:`embed_suite`, one row per plan item, in its order.
    """
    with worker_pool(processes) as pool:
        started = []
        for job, features, checkpoint, architecture in plan:
            out = profile_path(out_dir, dataset=job.dataset, level=job.level, features=features)
            timed = pool.submit(
                _timed_embed, job.format, job.data_dir, checkpoint=checkpoint, level=job.level, out=out,
                crop_size=job.crop_size, architecture=architecture, read_options=job.read_options, **options,
            )  # fmt: skip
            started.append((job, features, out, timed))
        rows = [
            _written(out, dataset=job.dataset, level=job.level, features=features, seconds=timed.result())
            for job, features, out, timed in started
        ]
    return pd.DataFrame(rows)


def _timed_embed(format: str, data_dir: Path, **options: Any) -> float:
    """:func:`celldino_utils.embed.embed_data`, returning the seconds it took (measured where it ran)."""
    start = time.perf_counter()
    embed_data(format, data_dir, **options)
    return time.perf_counter() - start


def _written(out: Path, *, dataset: str, level: str, features: str, seconds: float) -> dict[str, Any]:
    """One row of a suite's report on the file ``out``, read from its Parquet footer alone."""
    footer = pq.read_metadata(out)
    return {
        "dataset": dataset,
        "level": level,
        "features": features,
        "file": str(out),
        "rows": footer.num_rows,
        "dims": sum(1 for c in footer.schema.names if is_feature(c)),
        "seconds": round(seconds, 1),
    }


def cellprofiler_suite(
    jobs: Sequence[EmbedJob],
    *,
    out_dir: str | Path,
    features: str = "cellprofiler",
    **options: Any,
) -> pd.DataFrame:
    """The CellProfiler-style baseline of every cell-level job, in the same files and schema as the embeddings.

    Cells are measured inside their single-cell crops (each job's ``crop_size``). Where a field-level job reads
    the same data set, the fields' profiles are written too, each the median of its cells. ``options`` go to
    :func:`celldino_utils.embed.cellprofiler.cellprofiler_profiles`.

    Returns
    -------
    pandas.DataFrame
        One row per file written: ``dataset, level, features, file, rows, dims, seconds``.
    """
    same_data = {(job.dataset, job.format, job.data_dir) for job in jobs if job.level == "fov"}
    rows = []
    for job in (job for job in jobs if job.level == "cell"):
        start = time.perf_counter()
        cells = cellprofiler_profiles(job.format, job.data_dir, crop_size=job.crop_size, **job.read_options, **options)
        tables = {"cell": cells}
        if (job.dataset, job.format, job.data_dir) in same_data:
            tables["fov"] = aggregate_wells(cells, strata=("Metadata_Id",))
        for level, table in tables.items():
            out = write_profiles(table, profile_path(out_dir, dataset=job.dataset, level=level, features=features))
            seconds = time.perf_counter() - start
            rows.append(_written(out, dataset=job.dataset, level=level, features=features, seconds=seconds))
    return pd.DataFrame(rows)


def crops_as_embedded(
    format: str,
    data_dir: str | Path,
    *,
    crop_size: int,
    label_col: str,
    query: str | None = None,
    n_per_group: int = 3,
    seed: int = 0,
    **read_options: Any,
) -> tuple[np.ndarray, list[str]]:
    """Single-cell crops exactly as a model receives them: cut at ``crop_size``, then self-normalised.

    Parameters
    ----------
    format, data_dir, read_options
        The data set and the options of its cell reader (``nuclei``, ``platemap_csv``...).
    crop_size
        Side of the crops in native pixels, as a model without a recorded training scale embeds them.
    label_col
        One row of crops per value of this metadata column (sorted).
    query
        ``DataFrame.query`` on the cells' metadata choosing the cells drawn from, or None for all.
    n_per_group
        Crops per row, drawn at random (seeded) among the row's cells.

    Returns
    -------
    crops : numpy.ndarray
        Shape ``(G, n_per_group, C, S, S)``: each channel of each crop in standard deviations of its own mean.
    labels : list of str
        The ``G`` values of ``label_col``, in row order.
    """
    cells = open_cells(format, data_dir, crop_size=crop_size, **read_options)
    metadata = cells.metadata.reset_index(drop=True)
    chosen = metadata.query(query) if query else metadata
    transform, rng = EvalTransform(), np.random.default_rng(seed)
    rows, labels = [], []
    for label, group in chosen.groupby(label_col, sort=True):
        if len(group) < n_per_group:
            raise ValueError(f"crops_as_embedded: {label_col}={label!r} has {len(group)} cells, need {n_per_group}")
        picks = rng.choice(group.index.to_numpy(), size=n_per_group, replace=False)
        rows.append(np.stack([transform(cells[int(i)]).numpy() for i in picks]))
        labels.append(str(label))
    return np.stack(rows), labels


@dataclass(frozen=True)
class Embeddings:
    """What the embedding chapter wrote and its first check of training.

    Attributes
    ----------
    models, plus, baseline : pandas.DataFrame or IPython.display.Markdown
        One row per file written (``dataset, level, features, file, rows, dims, seconds``; ``file`` is the name
        in the embeddings folder) by the trained models and their random-init twins, by Cell-DINO+ and by the
        CellProfiler-style baseline; a sentence instead where the profile leaves one out.
    training_check : dict
        Feature set -> localisation kNN macro F1 of the HPA fields, the neighbour from another ``knn_group_col``.
    """

    models: pd.DataFrame
    plus: pd.DataFrame | Markdown
    baseline: pd.DataFrame | Markdown
    training_check: dict[str, float]


def _file_names(written: pd.DataFrame) -> pd.DataFrame:
    """A suite's report with each file by its name: the folder is a parameter, and the machine's own path."""
    return written.assign(file=written["file"].map(lambda path: Path(path).name))


def job_of(
    dataset: str,
    level: str,
    format: str,
    data: str,
    checkpoint: str,
    *,
    crop_size: int = 64,
    read_options: dict[str, Any] | None = None,
) -> EmbedJob:
    """An :class:`EmbedJob` from a notebook's parameters: the data folder resolved, the checkpoint made usable.

    ``checkpoint`` is a path under the project root, a released model's name or a model card
    (:func:`celldino_utils.embed.resolve_checkpoint`).
    """
    model = resolve_checkpoint(checkpoint)
    return EmbedJob(dataset, level, format, resolve_path(data), model, crop_size, dict(read_options or {}))


def embed_everything(
    *,
    hpa_data: str,
    hpa_format: str,
    hpa_read_options: dict[str, Any],
    hpa_checkpoint: str,
    hpa_cells_data: str,
    hpa_cells_format: str,
    hpa_cells_read_options: dict[str, Any],
    hpa_cells_checkpoint: str,
    hpa_cell_crop_size: int,
    cellpainting_data: str,
    cellpainting_format: str,
    cellpainting_read_options: dict[str, Any],
    cellpainting_checkpoint: str,
    cellpainting_cell_crop_size: int,
    hpa_plus_checkpoint: str,
    embeddings_dir: str,
    random_init: bool,
    cellprofiler_baseline: bool,
    cellprofiler_n_jobs: int,
    knn_group_col: str,
    parallel_runs: int = 1,
    **options: Any,
) -> Embeddings:
    """The embedding chapter: every data set by its model and random-init twin, Cell-DINO+, the baseline, a check.

    Parameters
    ----------
    hpa_*, hpa_cells_*, cellpainting_*
        HPA fields, HPA single cells and Cell Painting single cells: data folder, format, reader options, model
        (:func:`job_of`) and, for cells, the crop side in pixels of the model's training scale.
    hpa_plus_checkpoint
        Cell-DINO+, embedded on the HPA fields (for Table C); ``""`` for none.
    random_init, cellprofiler_baseline, cellprofiler_n_jobs
        Whether to embed with each architecture at random init, and to measure the CellProfiler-style baseline
        on the same cells (in that many processes).
    knn_group_col
        The training check takes each field's neighbour from another value of this column.
    parallel_runs
        Embeddings made side by side in as many processes sharing the CPU cores; 1: in turn in the kernel.
    options
        :func:`celldino_utils.embed.embed_data` options (``batch_size``, ``num_workers``, ``seed``).
    """
    hpa = job_of("hpa", "fov", hpa_format, hpa_data, hpa_checkpoint, read_options=hpa_read_options)
    cells = {"crop_size": hpa_cell_crop_size, "read_options": hpa_cells_read_options}
    hpa_cells = job_of("hpa", "cell", hpa_cells_format, hpa_cells_data, hpa_cells_checkpoint, **cells)
    cells = {"crop_size": cellpainting_cell_crop_size, "read_options": cellpainting_read_options}
    cellpainting = job_of("cp", "cell", cellpainting_format, cellpainting_data, cellpainting_checkpoint, **cells)
    out, jobs = resolve_path(embeddings_dir), [hpa, hpa_cells, cellpainting]
    plan = _suite_plan(jobs, "celldino", "random" if random_init else None)
    if hpa_plus_checkpoint:
        plus_job = replace(hpa, checkpoint=resolve_checkpoint(hpa_plus_checkpoint))
        plan.append((plus_job, "celldinoplus", plus_job.checkpoint, {}))
    written = _file_names(embed_plan(plan, out_dir=out, processes=parallel_runs, progress=False, **options))
    models = written[written["features"] != "celldinoplus"].reset_index(drop=True)
    plus: pd.DataFrame | Markdown = Markdown(
        "No Cell-DINO+ checkpoint in this profile: its rows of Table C keep the paper's values only."
    )
    if hpa_plus_checkpoint:
        plus = written[written["features"] == "celldinoplus"].reset_index(drop=True)
    baseline: pd.DataFrame | Markdown = Markdown(
        "The CellProfiler-style baseline is off in this profile (`cellprofiler_baseline = False`)."
    )
    if cellprofiler_baseline:
        baseline = _file_names(cellprofiler_suite(jobs, out_dir=out, n_jobs=cellprofiler_n_jobs, progress=False))
    names = ["celldino", *["celldinoplus"] * bool(hpa_plus_checkpoint), *["random"] * random_init]
    names += ["cellprofiler"] * cellprofiler_baseline
    return Embeddings(models, plus, baseline, training_check(out, names, group_col=knn_group_col))


def training_check(embeddings_dir: Path, feature_sets: Sequence[str], *, group_col: str) -> dict[str, float]:
    """Localisation kNN macro F1 (k = 1, cosine) of each feature set's HPA fields, the neighbour from another
    ``group_col`` value, rounded to 3 decimals: does training beat random init before any correction?"""
    scores = {}
    for name in feature_sets:
        fields = read_profiles(profile_path(embeddings_dir, dataset="hpa", level="fov", features=name))
        scores[name] = round(knn_score(fields, label_col="Metadata_Target", group_col=group_col, multilabel=True), 3)
    return scores
