"""Embed a data set's fields of view or single cells with a frozen backbone, into one Parquet file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch.distributed as dist
from torch.utils.data import Subset

from celldino_utils.augment import EvalTransform
from celldino_utils.embed.extract import embed_to_parquet
from celldino_utils.embed.model import load_embedding_model
from celldino_utils.io import get_layout, open_cells, open_fields
from celldino_utils.models import TokenFeatures

LEVELS = ("fov", "cell")


def _barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def embed_data(
    format: str,
    data_dir: str | Path,
    *,
    checkpoint: str | Path,
    level: str,
    out: str | Path,
    weights: str | Path | None = None,
    crop_size: int = 64,
    resize_size: int | None = None,
    interpolation: str = "bilinear",
    center_crop: int | None = None,
    feature_recipe: str = "cls",
    n_last_blocks: int = 1,
    batch_size: int = 64,
    num_workers: int = 0,
    shard_size: int = 4096,
    device: str | None = None,
    seed: int = 0,
    progress: bool = True,
    architecture: dict[str, Any] | None = None,
    read_options: dict[str, Any] | None = None,
    limit: int | None = None,
) -> Path | None:
    """Embed fields (``level="fov"``) or single cells (``level="cell"``) of a data set.

    Parameters
    ----------
    format, data_dir
        Data set to read (``celldino_utils.io.open_fields`` / ``open_cells``).
    checkpoint
        A released model's name (``celldino models``), a local checkpoint, or ``"random"`` for the same
        architecture at random init.
    weights
        The weights file of a released model (default: its default weights path).
    crop_size
        Side of single-cell crops in pixels (``level="cell"``).
    resize_size, interpolation, center_crop
        The evaluation transform after the division by the dtype range: resize the shorter side
        (``bilinear`` or ``bicubic``, antialiased; None keeps the native pixel size), then take the centred
        ``center_crop`` square (None: the whole image), then self-normalise each channel.
    feature_recipe, n_last_blocks
        Which tokens make the features (:data:`celldino_utils.models.FEATURE_RECIPES`): the class token,
        or the class tokens of the last ``n_last_blocks`` blocks followed by the mean patch token.
    architecture
        ``arch``, ``patch_size``, ``channel_mode``, ``img_size``, ``layerscale`` for a checkpoint
        without our ``config.yaml`` beside it.
    limit
        Embed only the first ``limit`` fields or cells (a quick look, a benchmark); None for all.

    Returns
    -------
    pathlib.Path or None
        ``out`` (Parquet: every ``Metadata_*`` column of the source, then ``emb_*``); None on ranks > 0.
    """
    from celldino_utils.train.distributed import init_distributed

    if level not in LEVELS:
        raise ValueError(f"level: unknown level {level!r}; choose one of {list(LEVELS)}")
    read_options = read_options or {}
    layout = get_layout(format)
    ctx = init_distributed(device)
    backbone, _ = load_embedding_model(
        checkpoint, in_chans=layout.n_channels, seed=seed, weights=weights, **(architecture or {})
    )
    model = TokenFeatures(backbone, recipe=feature_recipe, n_last_blocks=n_last_blocks)
    if level == "fov":
        dataset = open_fields(format, data_dir, **read_options)
    else:
        dataset = open_cells(format, data_dir, crop_size=crop_size, **read_options)
    metadata = dataset.metadata
    if limit is not None:
        dataset, metadata = Subset(dataset, range(min(limit, len(dataset)))), metadata.iloc[:limit]
    return embed_to_parquet(
        dataset,
        metadata,
        model,
        out,
        shard_size=shard_size,
        rank=ctx.rank,
        world_size=ctx.world_size,
        barrier=_barrier,
        progress=progress and ctx.is_main,
        transform=EvalTransform(crop_size=center_crop, resize_size=resize_size, interpolation=interpolation),
        batch_size=batch_size,
        num_workers=num_workers,
        device=ctx.device,
    )
