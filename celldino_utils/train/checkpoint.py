"""Save and resume training: model (student, teacher, centers), optimiser, schedules, every rank's RNG, step.

Checkpoints hold only tensors and plain Python values, so they load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from torch import nn

from celldino_utils.config.load import CONFIG_NAME

CHECKPOINT_NAME = "checkpoint.pth"
BACKBONE_NAME = "teacher_backbone.pth"
KEPT_BACKBONE_NAME = "teacher_backbone_step{step:06d}.pth"  # kept every ``train.keep_backbone_every`` steps
KEPT_BACKBONE_GLOB = "teacher_backbone_step*.pth"


def rng_state() -> dict[str, object]:
    """This process's Python, NumPy, torch and CUDA generator states, as tensors and plain values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, object] = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "cached": cached,
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, object]) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(_as_tuples(state["python"]))
    numpy = state["numpy"]
    keys = numpy["keys"].numpy().astype(np.uint32)
    np.random.set_state((numpy["kind"], keys, numpy["pos"], numpy["has_gauss"], numpy["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuples(value: object) -> object:
    """Lists back to tuples (``random.setstate`` wants the exact nesting it gave)."""
    return tuple(_as_tuples(v) for v in value) if isinstance(value, list | tuple) else value


def save_checkpoint(
    path: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedules: dict[str, torch.Tensor],
    step: int,
    rng_states: list[dict[str, object]],
    config: dict,
) -> Path:
    """Write a resumable checkpoint atomically (temporary file, then rename).

    Parameters
    ----------
    model
        The meta-architecture (not its DDP wrapper).
    step
        Number of completed steps.
    rng_states
        One :func:`rng_state` per rank, in rank order.
    config
        The resolved config as a plain container.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedules": schedules,
        "step": step,
        "rng": rng_states,
        "config": config,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(
    path: str | Path, *, model: nn.Module, optimizer: torch.optim.Optimizer, rank: int = 0
) -> tuple[int, dict[str, torch.Tensor]]:
    """Restore model, optimiser and this rank's RNG from ``path``; return ``(step, schedules)``.

    Raises
    ------
    ValueError
        If the checkpoint was written by a run with a different number of processes.
    """
    path = Path(path)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    if rank >= len(payload["rng"]):
        raise ValueError(f"{path}: written by {len(payload['rng'])} process(es); cannot resume on rank {rank}")
    set_rng_state(payload["rng"][rank])
    return int(payload["step"]), payload["schedules"]


def kept_backbone_path(out_dir: str | Path, step: int) -> Path:
    """Where a run keeps its teacher backbone of ``step`` (``train.keep_backbone_every``)."""
    return Path(out_dir) / KEPT_BACKBONE_NAME.format(step=step)


def training_backbones(checkpoint: str | Path) -> dict[int, Path]:
    """The teacher backbones one of our training runs left, by step: those it kept on the way and the final one.

    Parameters
    ----------
    checkpoint : str or Path
        The run's final ``teacher_backbone.pth``, with the run's ``config.yaml`` beside it.

    Returns
    -------
    dict of int to Path
        ``{step: backbone file}`` in step order, the final one at the run's last step (epochs times epoch
        length); {} for anything else (a released model's name or weights, a model card, a missing file).
    """
    path = Path(checkpoint)
    config = path.parent / CONFIG_NAME
    if path.name != BACKBONE_NAME or not path.is_file() or not config.is_file():
        return {}
    cfg = OmegaConf.load(config)
    backbones = {int(kept.stem.rsplit("step", 1)[1]): kept for kept in path.parent.glob(KEPT_BACKBONE_GLOB)}
    backbones[int(cfg.optim.epochs) * int(cfg.train.epoch_length)] = path
    return dict(sorted(backbones.items()))


def export_teacher_backbone(model: nn.Module, path: str | Path) -> Path:
    """Save the teacher backbone's state dict alone (what embedding needs; loads with ``load_backbone_weights``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.teacher["backbone"].state_dict(), path)
    return path
