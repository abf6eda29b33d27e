"""DINO loss on class tokens: cross-entropy between teacher targets and student predictions over crop pairs."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from celldino_utils.ssl.centering import CenteredTargetLoss


class DINOLoss(CenteredTargetLoss):
    """Self-distillation loss of DINO (Caron et al. 2021) as used by dinov2 and Cell-DINO.

    Every student crop is compared with every teacher (global) crop except the same view; the
    loss is the mean over those pairs of ``-sum_k t_k log softmax(s / student_temp)_k``, averaged
    over samples (dinov2 divides its local and global sums by the same pair count). The constructor
    and ``teacher_targets`` are those of :class:`~celldino_utils.ssl.centering.CenteredTargetLoss`.
    """

    def forward(self, student_logits: Sequence[torch.Tensor], teacher_targets: Sequence[torch.Tensor]) -> torch.Tensor:
        """Mean cross-entropy over (student crop, teacher crop) pairs of different views.

        Parameters
        ----------
        student_logits
            One ``(B, K)`` tensor per student crop; the first ``len(teacher_targets)`` are the global
            crops, in the teacher's order (those pairs with themselves are skipped).
        teacher_targets
            One ``(B, K)`` probability tensor per global crop.

        Returns
        -------
        torch.Tensor
            Scalar loss.
        """
        log_probs = torch.stack([torch.log_softmax(s.float() / self.student_temp, dim=-1) for s in student_logits])
        targets = torch.stack(list(teacher_targets)).float()
        pair_losses = -torch.einsum("tbk,sbk->ts", targets, log_probs) / targets.shape[1]  # (T, S)
        n_teacher, n_student = pair_losses.shape
        same_view = torch.eye(n_teacher, n_student, dtype=torch.bool, device=pair_losses.device)
        keep = ~same_view
        if not keep.any():
            raise ValueError("DINOLoss: no pair of different views (one global crop and no local crops)")
        return pair_losses[keep].mean()
