"""Frozen backbones for embedding: released models by name, our trained checkpoints, foreign ones, or random init."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from celldino_utils.config import resolve_path
from celldino_utils.models import (
    RELEASED_MODELS,
    RETIRED_NAMES,
    ViTBackbone,
    build_backbone,
    get_released_model,
    is_released_model,
    load_backbone_weights,
    load_released_model,
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

    Returns ``arch``, ``patch_size``, ``channel_mode``, ``img_size``, ``layerscale``, ``in_chans``
    (the channels it was trained on) and ``field_px`` (the training scale: shorter side in pixels of the
    fields it was trained on; None when the release does not state it or the run predates its recording);
    {} for a file without our ``config.yaml`` beside it.
    """
    if is_released_model(checkpoint):
        released = get_released_model(str(checkpoint))
        return {
            "arch": released.arch,
            "patch_size": released.patch_size,
            "channel_mode": released.channel_mode,
            "img_size": released.img_size,
            "layerscale": 1.0,
            "in_chans": released.in_chans,
            "field_px": released.field_px,
        }
    config = Path(checkpoint).parent / CONFIG_NAME
    if not config.exists():
        return {}
    cfg = OmegaConf.load(config)
    field_px = OmegaConf.select(cfg, "data.field_px", default=None)
    return {
        "arch": cfg.student.arch,
        "patch_size": int(cfg.student.patch_size),
        "channel_mode": cfg.student.channel_mode,
        "img_size": int(cfg.crops.global_crops_size),
        "layerscale": float(cfg.student.layerscale),
        "in_chans": int(cfg.student.in_chans),
        "field_px": None if field_px is None else int(field_px),
    }


def random_init_twin(checkpoint: str | Path) -> dict[str, Any]:
    """The ``architecture`` that builds ``checkpoint``'s model at random init (pass it with ``checkpoint="random"``).

    Raises
    ------
    FileNotFoundError
        If the architecture is not known: not a released model, and no ``config.yaml`` of our training beside it.
    """
    recorded = checkpoint_architecture(checkpoint)
    if not recorded:
        raise FileNotFoundError(f"{checkpoint}: no config.yaml beside it to build the random-init twin from")
    return {key: value for key, value in recorded.items() if key != "in_chans"}


def load_embedding_model(
    checkpoint: str | Path,
    *,
    in_chans: int,
    seed: int = 0,
    weights: str | Path | None = None,
    **architecture: Any,
) -> tuple[ViTBackbone, dict[str, Any]]:
    """Build a frozen backbone for images of ``in_chans`` channels and load ``checkpoint`` into it.

    Parameters
    ----------
    checkpoint
        The name of a released model (``celldino models``), the path of a local checkpoint, or ``"random"``
        for the same architecture at random init (seeded).
    weights
        The weights file of a released model (default: its default weights path); only with a released name.
    architecture
        ``arch``, ``patch_size``, ``channel_mode``, ``img_size`` (and optionally ``layerscale``, and
        ``field_px``, the training scale, which only passes to ``info``): override what our ``config.yaml``
        beside the checkpoint says; required for a checkpoint without one. A released model takes its
        architecture from its name alone.

    Returns
    -------
    (backbone, info)
        The model in eval mode and the architecture it was built with, with ``field_px`` when known (plus
        ``checkpoint``, and ``weights`` for a released model).

    Raises
    ------
    ValueError
        If an architecture key is missing or given for a released model, or the model was trained on
        another number of channels than the data have (a bag-of-channels model accepts any number).
    """
    given = {k: v for k, v in architecture.items() if v is not None}
    if is_released_model(checkpoint):
        return _load_released(str(checkpoint), in_chans=in_chans, weights=weights, given=given)
    if weights is not None:
        raise ValueError(f"weights: only a released model takes a weights file; {checkpoint} is not one")
    recorded = checkpoint_architecture(checkpoint) if str(checkpoint) != RANDOM_INIT else {}
    info = {**recorded, **given}
    missing = [k for k in _ARCH_KEYS if k not in info]
    if missing:
        raise ValueError(f"{checkpoint}: no config.yaml beside it; pass {missing} explicitly")
    trained_on = info.pop("in_chans", None)
    _check_channels(info["channel_mode"], trained_on, in_chans, name=str(checkpoint))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        backbone = build_backbone(
            info["arch"],
            in_chans=in_chans,
            img_size=info["img_size"],
            patch_size=info["patch_size"],
            channel_mode=info["channel_mode"],
            layerscale=info.get("layerscale"),
        )
    if str(checkpoint) != RANDOM_INIT:
        load_backbone_weights(backbone, checkpoint)
    return backbone.eval(), {**info, "checkpoint": str(checkpoint)}


def _load_released(
    name: str, *, in_chans: int, weights: str | Path | None, given: dict[str, Any]
) -> tuple[ViTBackbone, dict[str, Any]]:
    """A released model by name, checked against the data's channel count before its weights are read."""
    if given:
        raise ValueError(f"{name}: a released model takes its architecture from its name; drop {sorted(given)}")
    released = get_released_model(name)
    _check_channels(released.channel_mode, released.in_chans, in_chans, name=name)
    backbone = load_released_model(released, weights=weights)
    info = {**checkpoint_architecture(name), "checkpoint": name, "weights": None if weights is None else str(weights)}
    return backbone, info


def _check_channels(channel_mode: str, trained_on: int | None, in_chans: int, *, name: str) -> None:
    if channel_mode == "all" and trained_on is not None and trained_on != in_chans:
        raise ValueError(
            f"{name}: trained on {trained_on} channels, the data have {in_chans}; use a bag-of-channels model "
            "(channel_adaptive_dino_vitl16, or channel_mode=boc in training)"
        )
