"""Per-step schedules of learning rate, weight decay, teacher momentum and temperature (dinov2 ``CosineScheduler``)."""

from __future__ import annotations

import math

import torch
from omegaconf import DictConfig

SCALING_RULES: tuple[str, ...] = ("sqrt_wrt_1024", "linear_wrt_256", "none")


def cosine_schedule(
    base: float,
    final: float,
    *,
    total_steps: int,
    warmup_steps: int = 0,
    start_warmup: float = 0.0,
    freeze_steps: int = 0,
) -> torch.Tensor:
    """Values ``(total_steps,)``: ``freeze_steps`` zeros, a linear warm-up to ``base``, then a cosine to ``final``.

    Warm-up and freeze are clipped to ``total_steps``; float64, so a checkpoint stores the exact values.
    """
    freeze_steps = min(freeze_steps, total_steps)
    warmup_steps = min(warmup_steps, total_steps - freeze_steps)
    n_cosine = total_steps - freeze_steps - warmup_steps
    freeze = torch.zeros(freeze_steps, dtype=torch.float64)
    warmup = torch.linspace(start_warmup, base, warmup_steps, dtype=torch.float64)
    steps = torch.arange(n_cosine, dtype=torch.float64)
    cosine = final + 0.5 * (base - final) * (1.0 + torch.cos(math.pi * steps / max(n_cosine, 1)))
    return torch.cat([freeze, warmup, cosine])


def scaled_lr(base_lr: float, *, batch_size: int, rule: str) -> float:
    """Learning rate for a global batch: ``base_lr * sqrt(B / 1024)``, ``base_lr * B / 256`` or ``base_lr``."""
    if rule == "sqrt_wrt_1024":
        return base_lr * math.sqrt(batch_size / 1024)
    if rule == "linear_wrt_256":
        return base_lr * batch_size / 256
    if rule == "none":
        return base_lr
    raise ValueError(f"optim.scaling_rule: unknown rule {rule!r}; choose one of {list(SCALING_RULES)}")


def build_schedules(cfg: DictConfig, *, total_steps: int, epoch_length: int) -> dict[str, torch.Tensor]:
    """All schedules of a run, each ``(total_steps,)`` float64.

    Parameters
    ----------
    cfg
        Resolved training config (``optim.lr`` already scaled); epochs count ``epoch_length`` steps.

    Returns
    -------
    dict
        ``lr``, ``last_layer_lr`` (0 while the prototypes are frozen), ``weight_decay``,
        ``momentum`` (teacher EMA) and ``teacher_temp`` (linear warm-up, then constant).
    """
    optim, teacher = cfg.optim, cfg.teacher

    def steps(epochs: float) -> int:
        return int(round(epochs * epoch_length))

    lr = cosine_schedule(
        optim.lr, optim.min_lr, total_steps=total_steps, warmup_steps=steps(optim.warmup_epochs), start_warmup=0.0
    )
    last_layer_lr = lr.clone()
    last_layer_lr[: steps(optim.freeze_last_layer_epochs)] = 0.0
    warm = min(steps(teacher.warmup_teacher_temp_epochs), total_steps)
    teacher_temp = torch.full((total_steps,), float(teacher.teacher_temp), dtype=torch.float64)
    teacher_temp[:warm] = torch.linspace(teacher.warmup_teacher_temp, teacher.teacher_temp, warm, dtype=torch.float64)
    return {
        "lr": lr,
        "last_layer_lr": last_layer_lr,
        "weight_decay": cosine_schedule(optim.weight_decay, optim.weight_decay_end, total_steps=total_steps),
        "momentum": cosine_schedule(teacher.momentum_teacher, teacher.final_momentum_teacher, total_steps=total_steps),
        "teacher_temp": teacher_temp,
    }
