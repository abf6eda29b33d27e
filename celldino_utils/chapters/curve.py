"""The compute curve: how a score moves over one training run's steps, beside the levels it should clear.

The training keeps its teacher backbone every ``train.keep_backbone_every`` steps
(:func:`celldino_utils.train.training_backbones`); each kept backbone embeds the data of a score here, and the run's
final backbone is read from the embeddings of chapter 02, as are the fixed levels (random init, CellProfiler-style
features). Embeddings of the kept backbones are written as ``<dataset>_<level>_<features>-step<N>.parquet``.
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
from celldino_utils.io.profiles import profile_path, read_profiles
from celldino_utils.train.checkpoint import training_backbones


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
    rows = []
    for item in scores:
        job = item.job
        final = profile_path(embeddings_dir, dataset=job.dataset, level=job.level, features=features)
        if not final.exists():
            raise FileNotFoundError(f"{final}: the final model's embeddings (chapter 02) are missing")
        points = []
        for step, backbone in training_backbones(job.checkpoint).items():
            kept = backbone != Path(job.checkpoint)  # the final backbone was embedded by chapter 02
            path = _embed_kept(job, backbone, step, out_dir, features, options) if kept else final
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
    return pd.DataFrame(rows, columns=["score", "features", "step", "value", "data", "model", "file"])


def _embed_kept(
    job: EmbedJob, backbone: Path, step: int, out_dir: str | Path, features: str, options: dict[str, Any]
) -> Path:
    """Embed ``job``'s data with the backbone kept at ``step``; return the file written."""
    name = f"{features}-step{step}"
    embed_suite(
        [dataclasses.replace(job, checkpoint=backbone)], out_dir=out_dir, features=name, random_init=None, **options
    )
    return profile_path(out_dir, dataset=job.dataset, level=job.level, features=name)
