"""Frozen backbones for embedding: our trained checkpoints, foreign ones (dinov2, Cell-DINO), or random init."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from celldino_utils.models import ViTBackbone, build_backbone, load_backbone_weights

RANDOM_INIT = "random"

# Architecture of a checkpoint that comes without our config.yaml beside it (a released model).
_ARCH_KEYS = ("arch", "patch_size", "channel_mode", "img_size")


def checkpoint_architecture(checkpoint: str | Path) -> dict[str, Any]:
    """The architecture recorded by our training run beside ``checkpoint`` (``config.yaml``), or {} if none.

    Returns ``arch``, ``patch_size``, ``channel_mode``, ``img_size``, ``layerscale`` and ``in_chans``
    (the channels it was trained on).
    """
    config = Path(checkpoint).parent / "config.yaml"
    if not config.exists():
        return {}
    cfg = OmegaConf.load(config)
    return {
        "arch": cfg.student.arch,
        "patch_size": int(cfg.student.patch_size),
        "channel_mode": cfg.student.channel_mode,
        "img_size": int(cfg.crops.global_crops_size),
        "layerscale": float(cfg.student.layerscale),
        "in_chans": int(cfg.student.in_chans),
    }


def load_embedding_model(
    checkpoint: str | Path,
    *,
    in_chans: int,
    seed: int = 0,
    **architecture: Any,
) -> tuple[ViTBackbone, dict[str, Any]]:
    """Build a frozen backbone for images of ``in_chans`` channels and load ``checkpoint`` into it.

    Parameters
    ----------
    checkpoint
        Path of a local checkpoint, or ``"random"`` for the same architecture at random init (seeded).
    architecture
        ``arch``, ``patch_size``, ``channel_mode``, ``img_size`` (and optionally ``layerscale``): override
        what our ``config.yaml`` beside the checkpoint says; required for a checkpoint without one
        (e.g. a released model).

    Returns
    -------
    (backbone, info)
        The model in eval mode and the architecture it was built with (plus ``checkpoint``).

    Raises
    ------
    ValueError
        If an architecture key is missing, or the checkpoint was trained on another number of channels
        than the data has (a bag-of-channels model accepts any number).
    """
    recorded = checkpoint_architecture(checkpoint) if str(checkpoint) != RANDOM_INIT else {}
    info = {**recorded, **{k: v for k, v in architecture.items() if v is not None}}
    missing = [k for k in _ARCH_KEYS if k not in info]
    if missing:
        raise ValueError(f"{checkpoint}: no config.yaml beside it; pass {missing} explicitly")
    trained_on = info.pop("in_chans", None)
    if info["channel_mode"] == "all" and trained_on is not None and trained_on != in_chans:
        raise ValueError(
            f"{checkpoint}: trained on {trained_on} channels, the data have {in_chans}; use a bag-of-channels model"
        )
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
