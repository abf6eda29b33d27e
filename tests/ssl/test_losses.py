"""Losses, centering and head against naive reference formulas (single process, dist not initialised)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from celldino_utils.ssl import DINOHead, DINOLoss, IBOTPatchLoss, KoLeoLoss, TeacherCentering, sinkhorn_knopp
from celldino_utils.ssl.masking import sample_masks


def _cross_entropy(target: torch.Tensor, logits: torch.Tensor, temp: float) -> float:
    """Mean over rows of -sum_k t_k log softmax(s / temp)_k, written out with math."""
    total = 0.0
    for t_row, s_row in zip(target.tolist(), logits.tolist(), strict=True):
        z = [v / temp for v in s_row]
        log_norm = math.log(sum(math.exp(v) for v in z))
        total += -sum(t * (v - log_norm) for t, v in zip(t_row, z, strict=True))
    return total / len(target)


def test_dino_loss_is_the_mean_over_pairs_of_different_views() -> None:
    torch.manual_seed(0)
    students = [torch.randn(3, 5) for _ in range(4)]  # 2 global + 2 local crops
    teachers = [torch.softmax(torch.randn(3, 5), dim=-1) for _ in range(2)]
    loss = DINOLoss(5, student_temp=0.1)(students, teachers)
    pairs = [(t, s) for t in range(2) for s in range(4) if s != t]
    expected = sum(_cross_entropy(teachers[t], students[s], 0.1) for t, s in pairs) / len(pairs)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_softmax_centering_uses_then_updates_the_ema_center() -> None:
    torch.manual_seed(0)
    centering = TeacherCentering(4, mode="centering", momentum=0.9)
    first, second = torch.randn(6, 4), torch.randn(6, 4)
    torch.testing.assert_close(centering(first, temperature=0.04), torch.softmax(first / 0.04, dim=-1))
    center = 0.1 * first.mean(dim=0, keepdim=True)
    torch.testing.assert_close(centering.center, center)
    torch.testing.assert_close(centering(second, temperature=0.5), torch.softmax((second - center) / 0.5, dim=-1))


def _sinkhorn_reference(logits: np.ndarray, temp: float, n_iterations: int) -> np.ndarray:
    q = np.exp(logits.astype(np.float64) / temp).T  # (K, B)
    n_prototypes, n_samples = q.shape
    q /= q.sum()
    for _ in range(n_iterations):
        q /= q.sum(axis=1, keepdims=True)
        q /= n_prototypes
        q /= q.sum(axis=0, keepdims=True)
        q /= n_samples
    return (q * n_samples).T


def test_sinkhorn_knopp_matches_the_reference_and_balances_prototypes() -> None:
    torch.manual_seed(0)
    logits = torch.randn(64, 8)
    probs = sinkhorn_knopp(logits, temperature=0.5, n_iterations=3)
    np.testing.assert_allclose(probs.numpy(), _sinkhorn_reference(logits.numpy(), 0.5, 3), rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(64))
    many = sinkhorn_knopp(logits, temperature=0.5, n_iterations=50)
    torch.testing.assert_close(many.sum(dim=0), torch.full((8,), 64 / 8), rtol=1e-3, atol=1e-3)


def test_ibot_loss_weights_patches_by_their_image() -> None:
    torch.manual_seed(0)
    masks = torch.tensor([[True, True, False], [False, False, False], [False, True, False]])
    student, teacher = torch.randn(3, 6), torch.softmax(torch.randn(3, 6), dim=-1)
    loss = IBOTPatchLoss(6, student_temp=0.1)(student, teacher, masks=masks)
    per_patch = [_cross_entropy(teacher[i : i + 1], student[i : i + 1], 0.1) for i in range(3)]
    expected = ((per_patch[0] + per_patch[1]) / 2 + per_patch[2]) / 3  # image 0: 2 patches, image 2: 1, 3 images
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="masked patches"):
        IBOTPatchLoss(6)(student[:2], teacher[:2], masks=masks)


def test_koleo_loss_is_minus_mean_log_nearest_neighbour_distance() -> None:
    torch.manual_seed(0)
    x = torch.randn(7, 4)
    unit = x / x.norm(dim=1, keepdim=True)
    distances = torch.cdist(unit, unit) + torch.eye(7) * 10
    expected = -torch.log(distances.min(dim=1).values + 1e-8).mean()
    assert KoLeoLoss()(x).item() == pytest.approx(expected.item(), rel=1e-4)
    with pytest.raises(ValueError, match="B >= 2"):
        KoLeoLoss()(x[:1])


@pytest.mark.parametrize("use_bn", [False, True])
def test_head_gives_cosine_logits(use_bn: bool) -> None:
    head = DINOHead(16, out_dim=10, hidden_dim=32, bottleneck_dim=8, use_bn=use_bn)
    logits = head(torch.randn(5, 16))
    assert logits.shape == (5, 10) and torch.isfinite(logits).all()
    assert logits.abs().max() <= 1.0 + 1e-5


def test_masks_follow_probability_and_ratio_range() -> None:
    masks = sample_masks(
        20, grid=(8, 8), probability=0.5, ratio_range=(0.1, 0.5), generator=torch.Generator().manual_seed(0)
    )
    counts = masks.sum(dim=1)
    assert masks.shape == (20, 64) and int((counts > 0).sum()) == 10
    assert counts.max() <= int(0.5 * 64)
    with pytest.raises(ValueError, match="mask_ratio_min_max"):
        sample_masks(4, grid=(2, 2), probability=0.5, ratio_range=(0.6, 0.2))
