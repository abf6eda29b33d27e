"""The compute curve: how a score moves over one training run's steps, beside the levels it should clear.

The training keeps its teacher backbone every ``train.keep_backbone_every`` steps
(:func:`celldino_utils.train.training_backbones`); each kept backbone embeds the data of a score here, and the run's
final backbone is read from the embeddings of chapter 02, as are the fixed levels (random init, CellProfiler-style
features). Embeddings of the kept backbones are written as ``<dataset>_<level>_<features>-step<N>.parquet``.
:func:`supervised_reference` adds the point a score's curve is read against when it stays flat: the same
architecture trained end to end with the labels for as many steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from celldino_utils.chapters.embedding import EmbedJob, embed_suite
from celldino_utils.embed.model import RANDOM_INIT, feed_order, load_embedding_model, random_init_twin
from celldino_utils.evaluate.finetune import heldout_finetune_f1
from celldino_utils.evaluate.linear_probe import heldout_probe_f1
from celldino_utils.io import get_layout
from celldino_utils.io.datasets import open_images
from celldino_utils.io.profiles import profile_path, read_profiles
from celldino_utils.train.checkpoint import training_backbones

#: Columns of the curve table, one row per point.
CURVE_COLUMNS: tuple[str, ...] = ("score", "features", "step", "value", "data", "model", "file")
#: Feature-set name of the supervised reference (:func:`supervised_reference`) in the curve table.
SUPERVISED = "supervised"


@dataclass(frozen=True)
class CurveScore:
    """One score of the compute curve.

    Attributes
    ----------
    name : str
        What the score measures, as the figure and the table name it.
    job : EmbedJob
        The data set and level the score reads; its ``checkpoint`` is the run's final teacher backbone (or a
        released model, which has no kept backbones: its score is then a level of its own).
    score : Callable[[pandas.DataFrame], float]
        Embeddings ``(n_rows, n_metadata + n_features)`` in, the score out.
    """

    name: str
    job: EmbedJob
    score: Callable[[pd.DataFrame], float]


def compute_curve(
    scores: Sequence[CurveScore],
    *,
    embeddings_dir: str | Path,
    out_dir: str | Path,
    features: str = "celldino",
    levels: Sequence[str] = ("random", "cellprofiler"),
    **options: Any,
) -> pd.DataFrame:
    """Score every backbone a training run kept, its final one, and the fixed levels beside them.

    Parameters
    ----------
    scores
        The scores of the curve, each with the data it embeds and the run it follows.
    embeddings_dir
        Chapter 02's embeddings: ``<dataset>_<level>_<features>.parquet`` of the final model and of each level.
    out_dir
        Where the embeddings of the kept backbones are written.
    features
        Feature-set name of the trained model in ``embeddings_dir``.
    levels
        Feature sets scored as fixed levels; one whose file is not in ``embeddings_dir`` has no row (a profile
        without the CellProfiler-style baseline).
    options
        Passed to :func:`celldino_utils.chapters.embed_suite` (batch size, workers, seed...).

    Returns
    -------
    pandas.DataFrame
        One row per point: ``score``, ``features``, ``step`` (training steps; missing for levels and for a released
        model), ``value``, ``data`` (the data set), ``model`` (the backbone file or name; the feature set for a level)
        and ``file`` (the embeddings scored).

    Raises
    ------
    FileNotFoundError
        Naming the file, when chapter 02's embeddings of the final model are missing.
    """
    rows, embedded = [], {}
    for item in scores:
        job = item.job
        final = profile_path(embeddings_dir, dataset=job.dataset, level=job.level, features=features)
        if not final.exists():
            raise FileNotFoundError(f"{final}: the final model's embeddings (chapter 02) are missing")
        points = []
        for step, backbone in training_backbones(job.checkpoint).items():
            if backbone == Path(job.checkpoint):  # the final backbone was embedded by chapter 02
                path = final
            else:  # two scores of the same data embed each kept backbone once
                key = (job.dataset, job.level, str(job.data_dir), str(backbone))
                if key not in embedded:
                    embedded[key] = _embed_kept(job, backbone, step, out_dir, features, options)
                path = embedded[key]
            points.append((features, float(step), str(backbone), path))
        points = points or [(features, np.nan, str(job.checkpoint), final)]  # a released model: step unknown
        levels_found = [
            profile_path(embeddings_dir, dataset=job.dataset, level=job.level, features=level) for level in levels
        ]
        points += [
            (level, np.nan, level, path) for level, path in zip(levels, levels_found, strict=True) if path.exists()
        ]
        for name, step, model, path in points:
            value = item.score(read_profiles(path))
            rows.append(
                {"score": item.name, "features": name, "step": step, "value": value}
                | {"data": str(job.data_dir), "model": model, "file": str(path)}
            )
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def heldout_probe_score(profiles: pd.DataFrame, **options: Any) -> float:
    """Mean over the held-out groups of :func:`celldino_utils.evaluate.heldout_probe_f1` (same ``options``)."""
    return float(np.mean(list(heldout_probe_f1(profiles, **options).values())))


def supervised_reference(
    name: str,
    job: EmbedJob,
    *,
    label_col: str,
    group_col: str,
    steps: int | None = None,
    query: str | None = None,
    seed: int = 0,
    **options: Any,
) -> pd.DataFrame:
    """The curve point of the run's architecture at random init, trained end to end with the labels themselves.

    Where a self-supervised curve stays at the random-init level, this point says whether any training of this
    architecture gets further with the same number of optimiser steps: if the labels themselves do not, the
    limit is the compute, not the self-supervision.

    Parameters
    ----------
    name
        The score it sits beside (its panel): a held-out probe on the same rows and groups
        (:func:`celldino_utils.evaluate.heldout_probe_f1`).
    job
        The data (fields or cells, read as chapter 02 embeds them) and the run whose architecture is trained,
        from the random init the ``random`` level embeds with (same ``seed``).
    label_col, group_col, query
        As in :func:`celldino_utils.evaluate.heldout_finetune_f1`: each value of ``group_col`` is held out in turn.
    steps
        Optimiser steps of each fine-tune, rounded to whole epochs; None: the run's last training step; 0: none.
    seed
        Seed of the random init, the validation rows and the fine-tunes.
    options
        Other options of :func:`celldino_utils.evaluate.finetune_classifier` (``batch_size``, ``resize_size``,
        ``crop_size``, ``device``...).

    Returns
    -------
    pandas.DataFrame
        One row with the columns of :func:`compute_curve`: ``features`` is ``"supervised"``, ``step`` the steps
        each fine-tune ran and ``value`` the mean macro F1 over the held-out groups. No row when ``steps`` is 0, or
        None and ``job.checkpoint`` is not one of our training runs (a released model: no step count to match).
    """
    run_steps = training_backbones(job.checkpoint)
    steps = max(run_steps, default=0) if steps is None else steps
    if steps == 0:
        return pd.DataFrame(columns=list(CURVE_COLUMNS))
    twin = random_init_twin(job.checkpoint)
    channels = feed_order(RANDOM_INIT, get_layout(job.format).channels, architecture=twin)
    backbone, info = load_embedding_model(RANDOM_INIT, data_channels=channels, seed=seed, **twin)
    data = open_images(
        job.format, job.data_dir, level=job.level, crop_size=job.crop_size, field_px=info.get("field_px"),
        channels=channels, **job.read_options,
    )  # fmt: skip
    result = heldout_finetune_f1(
        backbone, data, label_col=label_col, group_col=group_col, steps=steps, query=query, seed=seed, **options
    )
    value = float(np.mean(list(result["f1_by_group"].values())))
    row = {"score": name, "features": SUPERVISED, "step": float(result["steps"]), "value": value}
    row |= {"data": str(job.data_dir), "model": f"{job.checkpoint} at random init, trained on {label_col}", "file": ""}
    return pd.DataFrame([row], columns=list(CURVE_COLUMNS))


def learnability_margin(curve: pd.DataFrame, score: str) -> float | None:
    """The supervised reference's value minus random init's on one score of a curve table; None without both."""
    panel = curve.loc[curve["score"] == score].set_index("features")["value"]
    if SUPERVISED not in panel.index or RANDOM_INIT not in panel.index:
        return None
    return float(panel[SUPERVISED] - panel[RANDOM_INIT])


def _embed_kept(
    job: EmbedJob, backbone: Path, step: int, out_dir: str | Path, features: str, options: dict[str, Any]
) -> Path:
    """Embed ``job``'s data with the backbone kept at ``step``; return the file written."""
    name = f"{features}-step{step}"
    embed_suite(
        [dataclasses.replace(job, checkpoint=backbone)], out_dir=out_dir, features=name, random_init=None, **options
    )
    return profile_path(out_dir, dataset=job.dataset, level=job.level, features=name)
