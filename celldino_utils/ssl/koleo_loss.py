"""KoLeo regulariser: spreads the student's class tokens uniformly over the sphere."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class KoLeoLoss(nn.Module):
    """Kozachenko-Leonenko differential-entropy estimator (Sablayrolles et al. 2018, "Spreading vectors
    for similarity search"), as dinov2 ``KoLeoLoss``: ``-mean_i log(min_{j != i} ||x_i - x_j|| + eps)``
    over L2-normalised vectors.

    Parameters
    ----------
    eps
        Added to the nearest-neighbour distance before the log.
    """

    def __init__(self, *, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Scalar loss of features ``(B, D)``, ``B >= 2``, computed in float32."""
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError(f"KoLeoLoss: expected (B, D) features with B >= 2, got {tuple(features.shape)}")
        x = F.normalize(features.float(), dim=-1, eps=self.eps)
        with torch.no_grad():
            similarity = x @ x.t()
            similarity.fill_diagonal_(-2.0)
            nearest = similarity.argmax(dim=1)
        distances = F.pairwise_distance(x, x[nearest], eps=self.eps)
        return -torch.log(distances + self.eps).mean()
