"""Teacher-output centering, written once for the DINO and iBOT losses (dinov2 has it twice).

Two ways to turn teacher logits into targets that cannot collapse onto one prototype:

- ``centering``: subtract an EMA of the batch-mean logits, then a sharp softmax (DINO, Caron et al. 2021).
- ``sinkhorn_knopp``: three Sinkhorn-Knopp iterations that make prototype usage uniform over
  the batch (SwAV, Caron et al. 2020; dinov2's default for its big runs).

Every collective call is guarded by ``dist.is_initialized()``, so both work on one CPU process.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

CENTERING_MODES: tuple[str, ...] = ("centering", "sinkhorn_knopp")


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes in place when a process group exists; return it."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(tensor)
    return tensor


def all_reduce_max(tensor: torch.Tensor) -> torch.Tensor:
    """Maximum of ``tensor`` over all processes in place when a process group exists; return it."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return tensor


@torch.no_grad()
def sinkhorn_knopp(logits: torch.Tensor, *, temperature: float, n_iterations: int = 3) -> torch.Tensor:
    """Targets ``(M, K)`` from logits ``(M, K)`` by Sinkhorn-Knopp over the global batch.

    After the iterations each prototype gets ``1/K`` of the total mass and each sample sums to 1.

    Parameters
    ----------
    logits
        Teacher logits of the local batch; ``M`` may differ between processes.
    temperature
        Teacher temperature.
    n_iterations
        Number of row/column normalisation rounds.
    """
    logits = logits.float() / temperature
    local_peak = logits.max() if logits.numel() else torch.tensor(float("-inf"), device=logits.device)
    peak = all_reduce_max(local_peak.clone())
    q = torch.exp(logits - peak).t()  # (K, M); the shift cancels in the normalisations
    n_samples = all_reduce_sum(torch.tensor(float(q.shape[1]), device=q.device))
    n_prototypes = q.shape[0]
    q /= all_reduce_sum(q.sum())
    for _ in range(n_iterations):
        q /= all_reduce_sum(q.sum(dim=1, keepdim=True)).clamp_min(1e-30)
        q /= n_prototypes
        q /= q.sum(dim=0, keepdim=True).clamp_min(1e-30)
        q /= n_samples
    return (q * n_samples).t()


class TeacherCentering(nn.Module):
    """Turns teacher logits into target probabilities; holds the EMA center in ``centering`` mode.

    Parameters
    ----------
    out_dim
        Number of prototypes ``K``.
    mode
        ``centering`` or ``sinkhorn_knopp``.
    momentum
        EMA momentum of the center (``centering`` mode only).
    n_iterations
        Sinkhorn-Knopp iterations (``sinkhorn_knopp`` mode only).
    """

    def __init__(self, out_dim: int, *, mode: str = "centering", momentum: float = 0.9, n_iterations: int = 3) -> None:
        super().__init__()
        if mode not in CENTERING_MODES:
            raise ValueError(f"centering: unknown mode {mode!r}; choose one of {list(CENTERING_MODES)}")
        self.mode = mode
        self.momentum = momentum
        self.n_iterations = n_iterations
        self.register_buffer("center", torch.zeros(1, out_dim))

    @torch.no_grad()
    def forward(self, logits: torch.Tensor, *, temperature: float) -> torch.Tensor:
        """Target probabilities ``(M, K)``; in ``centering`` mode the center is then updated with this batch."""
        if self.mode == "sinkhorn_knopp":
            return sinkhorn_knopp(logits, temperature=temperature, n_iterations=self.n_iterations)
        logits = logits.float()
        probs = torch.softmax((logits - self.center) / temperature, dim=-1)
        self._update_center(logits)
        return probs

    @torch.no_grad()
    def _update_center(self, logits: torch.Tensor) -> None:
        total = all_reduce_sum(logits.sum(dim=0, keepdim=True))
        count = all_reduce_sum(torch.tensor(float(logits.shape[0]), device=logits.device))
        if count > 0:
            self.center.mul_(self.momentum).add_(total / count, alpha=1.0 - self.momentum)


class CenteredTargetLoss(nn.Module):
    """Base of the DINO and iBOT losses: a student temperature and the teacher-target maker they share.

    Parameters
    ----------
    out_dim
        Number of prototypes ``K``.
    student_temp
        Student softmax temperature.
    centering, center_momentum, sinkhorn_iterations
        How teacher targets are made, see :class:`TeacherCentering`.
    """

    def __init__(
        self,
        out_dim: int,
        *,
        student_temp: float = 0.1,
        centering: str = "centering",
        center_momentum: float = 0.9,
        sinkhorn_iterations: int = 3,
    ) -> None:
        super().__init__()
        self.student_temp = student_temp
        self.centering = TeacherCentering(
            out_dim, mode=centering, momentum=center_momentum, n_iterations=sinkhorn_iterations
        )

    def teacher_targets(self, teacher_logits: torch.Tensor, *, teacher_temp: float) -> torch.Tensor:
        """Target probabilities ``(M, K)`` from teacher logits ``(M, K)`` (updates the center)."""
        return self.centering(teacher_logits, temperature=teacher_temp)
