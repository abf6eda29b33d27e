"""iBOT loss on masked patch tokens: the student predicts the teacher's targets of patches it did not see."""

from __future__ import annotations

import torch

from celldino_utils.ssl.centering import CenteredTargetLoss


class IBOTPatchLoss(CenteredTargetLoss):
    """Masked-image-modelling loss of iBOT (Zhou et al. 2022), as dinov2 ``iBOTPatchLoss.forward_masked``.

    Each masked patch contributes ``-sum_k t_k log softmax(s / student_temp)_k``, weighted by one
    over its image's number of masked patches; the sum is divided by the number of images (masked
    or not), so each masked image weighs the same whatever its mask ratio.

    The constructor (``out_dim``: prototypes ``K`` of the patch head) and ``teacher_targets`` are those of
    :class:`~celldino_utils.ssl.centering.CenteredTargetLoss`.
    """

    def forward(
        self, student_logits: torch.Tensor, teacher_targets: torch.Tensor, *, masks: torch.Tensor
    ) -> torch.Tensor:
        """Weighted cross-entropy over masked patches.

        Parameters
        ----------
        student_logits
            ``(M, K)`` student logits of the masked patches, in ``masks[masks]`` order.
        teacher_targets
            ``(M, K)`` teacher probabilities of the same patches.
        masks
            Boolean ``(V, N)``: which of the ``N`` patches of each of the ``V`` images were masked.

        Returns
        -------
        torch.Tensor
            Scalar loss.
        """
        if student_logits.shape[0] != int(masks.sum()):
            raise ValueError(f"IBOTPatchLoss: {student_logits.shape[0]} logits for {int(masks.sum())} masked patches")
        log_probs = torch.log_softmax(student_logits.float() / self.student_temp, dim=-1)
        per_patch = -(teacher_targets.float() * log_probs).sum(dim=-1)  # (M,)
        weights = (1.0 / masks.sum(dim=-1).clamp_min(1)).unsqueeze(-1).expand_as(masks)[masks]
        return (per_patch * weights).sum() / masks.shape[0]
