"""Sigmoid focal loss against a direct NumPy formula and torchvision's implementation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import sigmoid_focal_loss as torchvision_focal_loss

from celldino_utils.evaluate.focal_loss import sigmoid_focal_loss


def _numpy_focal(x: np.ndarray, y: np.ndarray, alpha: float, gamma: float) -> np.ndarray:
    """Element-wise focal loss written out by hand."""
    p = 1 / (1 + np.exp(-x))
    ce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    p_t = np.where(y == 1, p, 1 - p)
    alpha_t = np.where(y == 1, alpha, 1 - alpha) if alpha >= 0 else 1.0
    return alpha_t * (1 - p_t) ** gamma * ce


LOGITS = np.array([[2.0, -1.0, 0.0], [-3.0, 0.5, 4.0]])
TARGETS = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (0.5, 0.0), (-1.0, 1.5)])
def test_matches_numpy_formula(alpha: float, gamma: float) -> None:
    expected = _numpy_focal(LOGITS, TARGETS, alpha, gamma)
    x, y = torch.tensor(LOGITS), torch.tensor(TARGETS)
    got = sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="none")
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma).item() == pytest.approx(expected.mean())
    assert sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="sum").item() == pytest.approx(expected.sum())


def test_one_element_by_hand() -> None:
    # x = 0: p = 0.5, CE = log 2, (1 - p_t)^2 = 0.25, alpha_t = 0.25 for a positive.
    loss = sigmoid_focal_loss(torch.zeros(1), torch.ones(1))
    assert loss.item() == pytest.approx(0.25 * 0.25 * np.log(2))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_matches_torchvision(reduction: str) -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16, 19, generator=generator) * 3
    y = (torch.rand(16, 19, generator=generator) < 0.2).float()
    ours = sigmoid_focal_loss(x, y, alpha=0.25, gamma=2.0, reduction=reduction)
    theirs = torchvision_focal_loss(x, y, alpha=0.25, gamma=2.0, reduction=reduction)
    torch.testing.assert_close(ours, theirs)


def test_gradient_is_finite_for_large_logits() -> None:
    x = torch.tensor([[80.0, -80.0, 0.0]], requires_grad=True)
    sigmoid_focal_loss(x, torch.tensor([[0.0, 1.0, 1.0]])).backward()
    assert torch.isfinite(x.grad).all()


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="reduction"):
        sigmoid_focal_loss(torch.zeros(2), torch.zeros(2), reduction="max")
    with pytest.raises(ValueError, match="differ"):
        sigmoid_focal_loss(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="gamma"):
        sigmoid_focal_loss(torch.zeros(2), torch.zeros(2), gamma=-1.0)
