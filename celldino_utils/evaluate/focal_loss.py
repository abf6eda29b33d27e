"""Sigmoid focal loss (Lin et al. 2017, RetinaNet), the loss of the SubCell MLP probe (supplement Tables A, B)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

_REDUCTIONS = ("none", "mean", "sum")


def sigmoid_focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Binary focal loss on independent sigmoid outputs, the RetinaNet / torchvision definition.

    For a logit ``x`` with probability ``p = sigmoid(x)`` and target ``y`` in ``[0, 1]``::

        p_t     = p * y + (1 - p) * (1 - y)
        alpha_t = alpha * y + (1 - alpha) * (1 - y)      (only if alpha >= 0)
        loss    = alpha_t * BCE(x, y) * (1 - p_t) ** gamma

    Parameters
    ----------
    logits
        Raw scores, any shape, e.g. ``(B, C)`` for ``B`` cells and ``C`` classes.
    targets
        Same shape as ``logits``: multi-hot labels (0/1, soft labels allowed).
    alpha
        Weight of the positive class; a negative value turns the weighting off.
    gamma
        Focusing exponent (``0`` gives plain binary cross-entropy, times ``alpha_t``).
    reduction
        ``"mean"`` (over every element, as in the SubCell probe), ``"sum"`` or ``"none"``.

    Returns
    -------
    torch.Tensor
        A scalar, or a tensor shaped like ``logits`` for ``reduction="none"``.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"sigmoid_focal_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if logits.shape != targets.shape:
        raise ValueError(f"sigmoid_focal_loss: logits {tuple(logits.shape)} and targets {tuple(targets.shape)} differ")
    if gamma < 0:
        raise ValueError(f"sigmoid_focal_loss: gamma must be >= 0, got {gamma}")
    targets = targets.to(logits.dtype)
    prob = torch.sigmoid(logits)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = bce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
