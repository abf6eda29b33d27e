"""Did training help? Frozen-feature kNN of a trained backbone against the same architecture at random init."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from celldino_utils.embed import RANDOM_INIT, embed_data, random_init_twin
from celldino_utils.evaluate.batch_metrics import knn_score
from celldino_utils.io import read_profiles


def knn_against_random_init(
    checkpoint: str | Path,
    *,
    format: str,
    data_dir: str | Path,
    out_dir: str | Path,
    label_col: str,
    group_col: str,
    multilabel: bool = False,
    label_sep: str = " ",
    seed: int = 0,
    **embed_options: Any,
) -> pd.DataFrame:
    """Embed every field with ``checkpoint`` and with its random-init twin; score each by kNN F1.

    Parameters
    ----------
    checkpoint
        Trained backbone with our ``config.yaml`` beside it (its architecture builds the twin).
    format, data_dir
        Fields to embed (``celldino_utils.io.open_fields``).
    out_dir
        Where the two embedding files go (``fov_trained.parquet``, ``fov_random_init.parquet``).
    label_col, group_col, multilabel, label_sep
        What to predict and which group the neighbours must come from (see
        :func:`celldino_utils.evaluate.knn_score`; k=1, cosine, macro F1).
    seed
        Seed of the random initialisation.
    embed_options
        Passed to :func:`celldino_utils.embed.embed_data` (batch size, workers, device...).

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model``, ``knn_f1``, ``embeddings`` (the file written).

    Raises
    ------
    FileNotFoundError
        If ``checkpoint`` has no ``config.yaml`` of our training beside it.
    """
    models = {"trained": (checkpoint, None), "random init": (RANDOM_INIT, random_init_twin(checkpoint))}
    rows = []
    for name, (source, arch) in models.items():
        out = Path(out_dir) / f"fov_{name.replace(' ', '_')}.parquet"
        embed_data(
            format, data_dir, checkpoint=source, level="fov", out=out, architecture=arch, seed=seed, **embed_options
        )
        score = knn_score(
            read_profiles(out), label_col=label_col, group_col=group_col, multilabel=multilabel, label_sep=label_sep
        )
        rows.append({"model": name, "knn_f1": round(score, 3), "embeddings": str(out)})
    return pd.DataFrame(rows)
