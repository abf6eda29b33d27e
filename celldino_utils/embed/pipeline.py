"""Embed a data set's fields of view or single cells with a frozen backbone, into one Parquet (or AnnData) file."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Subset

from celldino_utils.augment import EvalTransform
from celldino_utils.config.distributed import barrier, init_distributed
from celldino_utils.embed.extract import embed_to_parquet
from celldino_utils.embed.model import feed_order, load_embedding_model, training_scale
from celldino_utils.embed.scale import scale_note
from celldino_utils.io import read_profiles, write_profiles
from celldino_utils.io.bioimages import index_layout
from celldino_utils.io.datasets import (
    LEVELS,
    CellDataset,
    FieldDataset,
    field_sizes,
    open_images,
    read_index,
    sample_positions,
)
from celldino_utils.io.files import CELL_OPTIONS
from celldino_utils.io.h5ad import H5AD_SUFFIX
from celldino_utils.models import TokenFeatures

#: What an embedding file records of the model that made it (:func:`celldino_utils.io.provenance.read_provenance`).
PROVENANCE_KEYS = ("model", "weights", "weights_sha256", "channels", "channel_mode")
#: Fields whose image headers are read to say the scale of an embedding (spread over the data set).
NOTE_SAMPLE = 256


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
    native_size: bool = False,
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
    report: Callable[[str], None] | None = None,
) -> Path | None:
    """Embed fields (``level="fov"``) or single cells (``level="cell"``) of a data set, at the model's training scale.

    The data's channels are fed by name, in the order the model takes them (:func:`feed_order`: the
    registry's or model card's ``channels``, those our training recorded, or any for a bag of channels);
    a model that takes other channels than the data have is refused once the data are indexed (the ``images``
    format names its channels in its files), before any weights or pixels are read.

    The training scale is ``field_px``, the shorter side of the fields the model was trained on (recorded
    in our ``config.yaml`` at training time, declared by the released-model registry, or passed in
    ``architecture``). By default each field is resized so that its shorter side is ``field_px`` (left as
    it is when it already is), and single cells are cut in pixels of that scale; fields of mixed sizes
    in one folder are each scaled by their own factor. When ``field_px`` is unknown, or with
    ``native_size``, images keep their native pixels.

    Parameters
    ----------
    format, data_dir
        Data set to read (``celldino_utils.io.open_fields`` / ``open_cells``); ``images`` for fields in any
        format bioio reads, channels named by the data (:mod:`celldino_utils.io.bioimages`).
    out
        The output file: Parquet, or AnnData when it ends in ``.h5ad`` (``obs`` the metadata, ``X`` the
        features, ``uns`` the provenance; :mod:`celldino_utils.io.h5ad`), made from the same Parquet rows.
    checkpoint
        A released model's name (``celldino models``), a local checkpoint, or ``"random"`` for the same
        architecture at random init.
    weights
        The weights file of a released model (default: its default weights path).
    crop_size
        Side of single-cell crops (``level="cell"``) in pixels of the training scale: in a field whose shorter
        side is ``S`` a cell is cut at ``round(crop_size * S / field_px)`` native pixels around its centre
        and resized to ``crop_size`` (bilinear, antialiased). Native pixels with ``native_size`` or when
        ``field_px`` is unknown.
    resize_size, interpolation, center_crop
        The evaluation transform after the division by the dtype range: resize the shorter side of each
        field or crop to ``resize_size`` (``bilinear`` or ``bicubic``, antialiased; for fields, None brings
        them to ``field_px`` and 0 keeps them native), then take the centred ``center_crop`` square
        (None: the whole image), then self-normalise each channel.
    native_size
        Keep native pixels: fields are not brought to the training scale and crops are ``crop_size``
        native pixels (an explicit ``resize_size`` still applies).
    feature_recipe, n_last_blocks
        Which tokens make the features (:data:`celldino_utils.models.FEATURE_RECIPES`): the class token,
        or the class tokens of the last ``n_last_blocks`` blocks followed by the mean patch token.
    architecture
        ``arch``, ``patch_size``, ``channel_mode``, ``img_size``, ``layerscale`` (and ``field_px``, the
        training scale, and ``channels``, the names it takes in order, when known) for a checkpoint without our
        ``config.yaml`` beside it; without ``channels`` it is fed the data's channels in the format's order.
    limit
        Embed only the first ``limit`` fields or cells (a quick look, a benchmark); None for all.
    report
        Called once (rank 0), before embedding, with a line saying the scale used for each size of field
        (:func:`celldino_utils.embed.scale.scale_note`; up to ``NOTE_SAMPLE`` image headers are read for it).

    Returns
    -------
    pathlib.Path or None
        ``out`` (Parquet: every ``Metadata_*`` column of the source, then ``emb_*``; its footer records
        :data:`PROVENANCE_KEYS` of the model, the data's ``format`` and ``level``, the ``transform`` and the
        ``features`` recipe); None on ranks > 0.
    """
    if level not in LEVELS:
        raise ValueError(f"level: unknown level {level!r}; choose one of {list(LEVELS)}")
    ctx = init_distributed(device)
    field_px = training_scale(checkpoint, architecture=architecture)
    scale = None if native_size else field_px
    cell_options = {key: value for key, value in (read_options or {}).items() if key in CELL_OPTIONS}
    index_options = {key: value for key, value in (read_options or {}).items() if key not in CELL_OPTIONS}
    index = read_index(format, data_dir, **index_options)
    channels = feed_order(checkpoint, index_layout(format, index).channels, architecture=architecture)
    backbone, info = load_embedding_model(
        checkpoint, data_channels=channels, seed=seed, weights=weights, **(architecture or {})
    )
    model = TokenFeatures(backbone, recipe=feature_recipe, n_last_blocks=n_last_blocks)
    dataset = open_images(
        format,
        data_dir,
        level=level,
        crop_size=crop_size,
        field_px=scale,
        channels=channels,
        index=index,
        cache_mib=0,  # each field is read once, in order: nothing to keep
        **cell_options,
    )
    side = (scale if resize_size is None else resize_size) if level == "fov" else resize_size
    if report is not None and ctx.is_main:
        options = {"field_px": field_px, "native_size": native_size, "resize_size": resize_size, "crop_size": crop_size}
        report(_note(dataset, level=level, limit=limit, **options))
    metadata = dataset.metadata
    if limit is not None:
        dataset, metadata = Subset(dataset, range(min(limit, len(dataset)))), metadata.iloc[:limit]
    transform = {
        "field_px": scale,
        "resize_size": side,
        "center_crop": center_crop,
        "interpolation": interpolation,
        "crop_size": crop_size if level == "cell" else None,
        "native_size": native_size,
    }
    provenance = {
        **{key: info[key] for key in PROVENANCE_KEYS},
        "format": format,
        "level": level,
        "transform": transform,
        "features": {"recipe": feature_recipe, "n_last_blocks": n_last_blocks},
    }
    out = Path(out)
    as_anndata = out.suffix == H5AD_SUFFIX
    written = embed_to_parquet(
        dataset,
        metadata,
        model,
        out.with_name(f".{out.stem}.embedding.parquet") if as_anndata else out,
        shard_size=shard_size,
        rank=ctx.rank,
        world_size=ctx.world_size,
        barrier=partial(barrier, ctx),
        progress=progress and ctx.is_main,
        transform=EvalTransform(crop_size=center_crop, resize_size=side, interpolation=interpolation),
        batch_size=batch_size,
        num_workers=num_workers,
        device=ctx.device,
        provenance=provenance,
    )
    if written is None or not as_anndata:
        return written
    profiles = read_profiles(written)
    write_profiles(profiles, out, provenance=profiles.attrs["provenance"])
    written.unlink()
    return out


def _note(dataset: FieldDataset | CellDataset, *, level: str, limit: int | None, **options: Any) -> str:
    """:func:`scale_note` of the fields embedded (those of the first ``limit`` items), from the image headers of
    up to ``NOTE_SAMPLE`` of them."""
    if isinstance(dataset, FieldDataset):
        fields, embedded = dataset, np.arange(len(dataset))[:limit]
    else:
        fields, embedded = dataset.fields, np.unique(dataset.field_of_cell[:limit])
    sample = [int(embedded[i]) for i in sample_positions(len(embedded), NOTE_SAMPLE)]
    sides = [min(size) for size in field_sizes(fields, sample)]
    return scale_note(sides, n_fields=len(embedded), level=level, **options)
