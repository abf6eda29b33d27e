"""Frozen backbones for embedding: released models by name, our trained checkpoints, foreign ones, or random init."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from celldino_utils.config import resolve_path
from celldino_utils.io.channels import LAYOUTS, channel_positions
from celldino_utils.io.stamps import file_sha256
from celldino_utils.models import (
    RELEASED_MODELS,
    RETIRED_NAMES,
    ViTBackbone,
    build_backbone,
    get_released_model,
    is_released_model,
    load_backbone_weights,
    load_released_model,
    released_weights_file,
)
from celldino_utils.train.checkpoint import CONFIG_NAME

RANDOM_INIT = "random"

# Architecture of a checkpoint that comes without our config.yaml beside it (a released model).
_ARCH_KEYS = ("arch", "patch_size", "channel_mode", "img_size")


def resolve_checkpoint(checkpoint: str | Path) -> str | Path:
    """A checkpoint parameter made usable anywhere: released-model names and ``random`` as given, paths resolved.

    Relative paths (checkpoints of our training, model cards of official-format backbones) are taken under the
    project root (:func:`celldino_utils.config.resolve_path`).
    """
    if str(checkpoint) == RANDOM_INIT or str(checkpoint) in RELEASED_MODELS or str(checkpoint) in RETIRED_NAMES:
        return str(checkpoint)
    return resolve_path(checkpoint)


def checkpoint_architecture(checkpoint: str | Path) -> dict[str, Any]:
    """The architecture of a released model's name, or the one our training recorded beside ``checkpoint``.

    Returns ``arch``, ``patch_size``, ``depth`` (None: the architecture's own), ``channel_mode``, ``img_size``,
    ``layerscale``, ``in_chans``
    (the channels it was trained on), ``channels`` (their names in the model's input order; None when
    unknown) and ``field_px`` (the training scale: shorter side in pixels of the fields it was trained on;
    None when the release does not state it or the run predates its recording); {} for a file without our
    ``config.yaml`` beside it.

    Notes
    -----
    A run records its channel names in ``data.channels``. For a run from before they were recorded, the
    channels are those of its ``data.format``, in that format's order (the order its reader fed them in,
    which :mod:`celldino_utils.io.channels` keeps); without either, they are unknown and the data's own
    order is fed.
    """
    if is_released_model(checkpoint):
        released = get_released_model(str(checkpoint))
        return {
            "arch": released.arch,
            "patch_size": released.patch_size,
            "depth": None,
            "channel_mode": released.channel_mode,
            "img_size": released.img_size,
            "layerscale": 1.0,
            "in_chans": released.in_chans,
            "channels": released.channels or None,
            "field_px": released.field_px,
        }
    config = Path(checkpoint).parent / CONFIG_NAME
    if not config.exists():
        return {}
    cfg = OmegaConf.load(config)
    field_px = OmegaConf.select(cfg, "data.field_px", default=None)
    channels = OmegaConf.select(cfg, "data.channels", default=None)
    data_format = OmegaConf.select(cfg, "data.format", default=None)
    if channels is None and data_format in LAYOUTS:
        channels = LAYOUTS[data_format].channels
    return {
        "arch": cfg.student.arch,
        "patch_size": int(cfg.student.patch_size),
        "depth": OmegaConf.select(cfg, "student.depth", default=None),
        "channel_mode": cfg.student.channel_mode,
        "img_size": int(cfg.crops.global_crops_size),
        "layerscale": float(cfg.student.layerscale),
        "in_chans": int(cfg.student.in_chans),
        "channels": None if channels is None else tuple(str(c) for c in channels),
        "field_px": None if field_px is None else int(field_px),
    }


def random_init_twin(checkpoint: str | Path) -> dict[str, Any]:
    """The ``architecture`` that builds ``checkpoint``'s model at random init (pass it with ``checkpoint="random"``);
    it takes the same channels in the same order.

    Raises
    ------
    FileNotFoundError
        If the architecture is not known: not a released model, and no ``config.yaml`` of our training beside it.
    """
    recorded = checkpoint_architecture(checkpoint)
    if not recorded:
        raise FileNotFoundError(f"{checkpoint}: no config.yaml beside it to build the random-init twin from")
    return {key: value for key, value in recorded.items() if key != "in_chans"}


def feed_order(
    checkpoint: str | Path, data_channels: Sequence[str], *, architecture: Mapping[str, Any] | None = None
) -> tuple[str, ...]:
    """The data's channel names in the order ``checkpoint``'s model takes them (no weights are read).

    Parameters
    ----------
    checkpoint
        As for :func:`load_embedding_model`.
    data_channels
        The names of the data's channels (``layout.channels`` of the data set's format).
    architecture
        As for :func:`load_embedding_model`; its ``channels`` names a model's channels, in order, where
        nothing records them (a random-init twin, a checkpoint without ``config.yaml``).

    Returns
    -------
    tuple of str
        The model's channels in its order; ``data_channels`` as they are for a bag-of-channels model (any
        named channels, each its own view) or a model whose channels are unknown.

    Raises
    ------
    ValueError
        Naming the model's channels and those of the data that are missing or extra.
    """
    info = _architecture_info(checkpoint, architecture)
    return _fed_channels(
        data_channels, model_channels=info.get("channels"), channel_mode=info.get("channel_mode"), name=str(checkpoint)
    )


def training_scale(checkpoint: str | Path, *, architecture: Mapping[str, Any] | None = None) -> int | None:
    """The training scale of ``checkpoint``'s model (``field_px``: shorter side in pixels of the fields it was
    trained on), as ``architecture`` gives it or its release or training recorded it; None when unknown (no
    weights are read)."""
    field_px = _architecture_info(checkpoint, architecture).get("field_px")
    return None if field_px is None else int(field_px)


def _architecture_info(checkpoint: str | Path, architecture: Mapping[str, Any] | None) -> dict[str, Any]:
    """What is recorded of ``checkpoint``'s architecture (:func:`checkpoint_architecture`), overridden by the
    keys of ``architecture`` that have a value."""
    given = {key: value for key, value in (architecture or {}).items() if value is not None}
    recorded = checkpoint_architecture(checkpoint) if str(checkpoint) != RANDOM_INIT else {}
    return {**recorded, **given}


def load_embedding_model(
    checkpoint: str | Path,
    *,
    data_channels: Sequence[str],
    seed: int = 0,
    weights: str | Path | None = None,
    **architecture: Any,
) -> tuple[ViTBackbone, dict[str, Any]]:
    """Build a frozen backbone for images whose channels are named ``data_channels``; load ``checkpoint`` into it.

    Parameters
    ----------
    checkpoint
        The name of a released model (``celldino models``), the path of a local checkpoint, or ``"random"``
        for the same architecture at random init (seeded).
    data_channels
        The names of the images' channels, in the order the images hold them: the model's order
        (:func:`feed_order`; open the data with ``channels=feed_order(...)``), any for a bag of channels.
    weights
        The weights file of a released model (default: its default weights path); only with a released name.
    architecture
        ``arch``, ``patch_size``, ``channel_mode``, ``img_size`` (and optionally ``depth``, ``layerscale``,
        ``channels``, and ``field_px``, the training scale, which only passes to ``info``): override what our
        ``config.yaml`` beside the checkpoint says; required for a checkpoint without one. A released model takes its
        architecture from its name alone.

    Returns
    -------
    (backbone, info)
        The model in eval mode and the architecture it was built with, with ``field_px`` when known, plus
        ``checkpoint``, ``model`` (the registry or card name, else the checkpoint), ``channels`` (the names
        fed, in input order), ``weights`` and ``weights_sha256`` (the file read and its SHA-256; None at
        random init).

    Raises
    ------
    ValueError
        If an architecture key is missing or given for a released model, the model takes other channels than
        the data have or takes them in another order, or was trained on another number of channels (a
        bag-of-channels model accepts any).
    """
    given = {k: v for k, v in architecture.items() if v is not None}
    if is_released_model(checkpoint):
        return _load_released(str(checkpoint), channels=tuple(data_channels), weights=weights, given=given)
    if weights is not None:
        raise ValueError(f"weights: only a released model takes a weights file; {checkpoint} is not one")
    recorded = checkpoint_architecture(checkpoint) if str(checkpoint) != RANDOM_INIT else {}
    info = {**recorded, **given}
    missing = [k for k in _ARCH_KEYS if k not in info]
    if missing:
        raise ValueError(f"{checkpoint}: no config.yaml beside it; pass {missing} explicitly")
    trained_on = info.pop("in_chans", None)
    fed = _checked_feed(tuple(data_channels), info, trained_on=trained_on, name=str(checkpoint))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        backbone = build_backbone(
            info["arch"],
            in_chans=len(fed),
            img_size=info["img_size"],
            patch_size=info["patch_size"],
            channel_mode=info["channel_mode"],
            layerscale=info.get("layerscale"),
            depth=info.get("depth"),
        )
    source = {"weights": None, "weights_sha256": None}
    if str(checkpoint) != RANDOM_INIT:
        load_backbone_weights(backbone, checkpoint)
        source = {"weights": str(checkpoint), "weights_sha256": file_sha256(checkpoint)}
    return backbone.eval(), {**info, "checkpoint": str(checkpoint), "model": str(checkpoint), "channels": fed, **source}


def _load_released(
    name: str, *, channels: tuple[str, ...], weights: str | Path | None, given: dict[str, Any]
) -> tuple[ViTBackbone, dict[str, Any]]:
    """A released model by name, checked against the data's channels before its weights are read."""
    if given:
        raise ValueError(f"{name}: a released model takes its architecture from its name; drop {sorted(given)}")
    released = get_released_model(name)
    info = checkpoint_architecture(name)
    fed = _checked_feed(channels, info, trained_on=info.pop("in_chans"), name=name)
    path = released_weights_file(released, weights=weights)
    backbone = load_released_model(released, weights=path)
    source = {"weights": str(path), "weights_sha256": file_sha256(path)}
    return backbone, {**info, "checkpoint": name, "model": released.name, "channels": fed, **source}


def _checked_feed(
    channels: tuple[str, ...], info: dict[str, Any], *, trained_on: int | None, name: str
) -> tuple[str, ...]:
    """``channels`` once checked to be what the model takes, in its order, and as many as it was trained on."""
    fed = _fed_channels(channels, model_channels=info.get("channels"), channel_mode=info["channel_mode"], name=name)
    if fed != channels:
        raise ValueError(
            f"{name}: takes the channels in the order {list(fed)}, the images hold {list(channels)}; open the "
            f"data with channels={list(fed)} (celldino_utils.embed.feed_order gives it, embed_data does it)"
        )
    if info["channel_mode"] == "all" and trained_on is not None and trained_on != len(channels):
        raise ValueError(
            f"{name}: trained on {trained_on} channels, the data have {len(channels)}; use a bag-of-channels model "
            "(channel_adaptive_dino_vitl16, or channel_mode=boc in training)"
        )
    return fed


def _fed_channels(
    data_channels: Sequence[str], *, model_channels: Sequence[str] | None, channel_mode: str | None, name: str
) -> tuple[str, ...]:
    """The model's channels in its order, matched by name against the data's; the data's own for a bag of
    channels or a model whose channels are unknown."""
    if channel_mode == "boc" or not model_channels:
        return tuple(data_channels)
    channel_positions(data_channels, model_channels, source=f"{name} (takes {', '.join(model_channels)})")
    return tuple(model_channels)
