"""Self-distillation meta-architecture: student, EMA teacher and the losses that the config asks for.

This module only composes: the ViT comes from :mod:`celldino_utils.models`, the head and each loss
from their own module in this package. A loss whose weight is 0 is never built (dinov2 ``do_koleo``).
One training step is split into :meth:`SSLMetaArch._teacher_targets`, :meth:`SSLMetaArch._student_outputs`
and :meth:`SSLMetaArch._loss_terms` (DINO on class tokens, iBOT on masked patches, KoLeo).
"""

from __future__ import annotations

import math

import torch
from omegaconf import DictConfig
from torch import nn

from celldino_utils.models import ViTBackbone, build_backbone, load_backbone_weights
from celldino_utils.ssl.centering import all_reduce_max
from celldino_utils.ssl.dino_loss import DINOLoss
from celldino_utils.ssl.head import DINOHead
from celldino_utils.ssl.ibot_loss import IBOTPatchLoss
from celldino_utils.ssl.koleo_loss import KoLeoLoss
from celldino_utils.ssl.masking import sample_masks


class SSLMetaArch(nn.Module):
    """Student and teacher networks plus the DINO / iBOT / KoLeo losses.

    Parameters
    ----------
    student, teacher
        ``ModuleDict`` with ``backbone``, ``dino_head`` and optionally ``ibot_head``, of identical
        parameter names (the teacher has no stochastic depth); the teacher starts as a copy of the student.
    losses
        The losses to use, keyed ``dino``, ``ibot``, ``koleo``; only those with a non-zero weight.
    loss_weights
        Weight of each loss in ``losses``.
    n_global_crops
        Global crops per image.
    mask_probability, mask_ratio_range
        iBOT masking (dinov2 ``mask_sample_probability`` and ``mask_ratio_min_max``).
    """

    def __init__(
        self,
        student: nn.ModuleDict,
        teacher: nn.ModuleDict,
        *,
        losses: dict[str, nn.Module],
        loss_weights: dict[str, float],
        n_global_crops: int = 2,
        mask_probability: float = 0.5,
        mask_ratio_range: tuple[float, float] = (0.1, 0.5),
    ) -> None:
        super().__init__()
        if not losses or set(losses) - {"dino", "ibot", "koleo"} or set(losses) != set(loss_weights):
            raise ValueError(
                f"losses: expected weights for a non-empty subset of dino/ibot/koleo, got {sorted(losses)}"
            )
        self.student = student
        self.teacher = teacher
        self.losses = nn.ModuleDict(losses)
        self.loss_weights = dict(loss_weights)
        self.n_global_crops = n_global_crops
        self.mask_probability = mask_probability
        self.mask_ratio_range = mask_ratio_range
        self.n_prototypes = (student["dino_head"] if "dino" in losses else self._ibot_head(student)).out_dim
        if "ibot" not in losses:
            student["backbone"].mask_token.requires_grad_(False)
        self.teacher.load_state_dict(self.student.state_dict())
        self.teacher.requires_grad_(False)

    def forward(
        self, global_crops: torch.Tensor, local_crops: torch.Tensor | None = None, *, teacher_temp: float
    ) -> dict[str, torch.Tensor]:
        """One step's losses.

        Parameters
        ----------
        global_crops
            ``(G * B, C, H, W)``, crop-major (see :func:`celldino_utils.augment.collate_crops`).
        local_crops
            ``(L * B, C, h, w)`` or None.
        teacher_temp
            Teacher softmax temperature of this step.

        Returns
        -------
        dict
            ``loss`` (weighted sum, differentiable), the detached terms (``dino``, ``ibot``, ``koleo``)
            and ``teacher_entropy``: the mean per-sample entropy of the teacher targets, in nats
            (collapse alarm: it tends to ``log K`` when the teacher output becomes uniform).
        """
        masks = self._sample_masks(global_crops) if "ibot" in self.losses else None
        if masks is not None and _fewest_masked(masks) < 2:  # BatchNorm in the head needs two tokens on every rank
            masks = None
        targets = self._teacher_targets(global_crops, masks=masks, teacher_temp=teacher_temp)
        outputs = self._student_outputs(global_crops, local_crops, masks=masks)
        terms = self._loss_terms(outputs, targets, masks=masks)
        loss = sum(self.loss_weights[name] * term for name, term in terms.items())
        return {
            "loss": loss,
            **{name: term.detach() for name, term in terms.items()},
            "teacher_entropy": targets["entropy"],
        }

    @torch.no_grad()
    def update_teacher(self, momentum: float) -> None:
        """EMA step ``teacher = momentum * teacher + (1 - momentum) * student`` on every parameter."""
        teacher = list(self.teacher.parameters())
        student = [p.detach() for p in self.student.parameters()]
        torch._foreach_mul_(teacher, momentum)
        torch._foreach_add_(teacher, student, alpha=1.0 - momentum)

    def _sample_masks(self, global_crops: torch.Tensor) -> torch.Tensor:
        backbone = self.student["backbone"]
        n_views = global_crops.shape[0] * backbone.views_per_image(global_crops.shape[1])
        grid = (global_crops.shape[-2] // backbone.patch_size, global_crops.shape[-1] // backbone.patch_size)
        masks = sample_masks(n_views, grid=grid, probability=self.mask_probability, ratio_range=self.mask_ratio_range)
        return masks.to(global_crops.device)

    @torch.no_grad()
    def _teacher_targets(
        self, global_crops: torch.Tensor, *, masks: torch.Tensor | None, teacher_temp: float
    ) -> dict[str, object]:
        """Teacher targets: ``dino`` (one ``(V, K)`` per global crop), ``ibot`` ``(M, K)``, ``entropy``."""
        backbone = self.teacher["backbone"]
        tokens = backbone.forward_tokens(backbone.views(global_crops))
        targets: dict[str, object] = {}
        if "dino" in self.losses:
            probs = self.losses["dino"].teacher_targets(
                self.teacher["dino_head"](tokens[:, 0]), teacher_temp=teacher_temp
            )
            targets["dino"] = probs.chunk(self.n_global_crops)
            targets["entropy"] = _entropy(probs)
        if masks is not None:
            patches = tokens[:, backbone.num_prefix_tokens :][masks]
            logits = self._ibot_head(self.teacher)(patches)
            targets["ibot"] = self.losses["ibot"].teacher_targets(logits, teacher_temp=teacher_temp)
            targets.setdefault("entropy", _entropy(targets["ibot"]))
        targets.setdefault("entropy", torch.tensor(math.nan))
        return targets

    def _student_outputs(
        self, global_crops: torch.Tensor, local_crops: torch.Tensor | None, *, masks: torch.Tensor | None
    ) -> dict[str, object]:
        """Student outputs: ``global_cls`` ``(G*V, D)``, ``dino`` (one ``(V, K)`` per crop), ``ibot`` ``(M, K)``."""
        backbone = self.student["backbone"]
        tokens = backbone.forward_tokens(backbone.views(global_crops), masks=masks)
        outputs: dict[str, object] = {"global_cls": tokens[:, 0]}
        if "dino" in self.losses:
            cls = [tokens[:, 0]]
            if local_crops is not None:
                cls.append(backbone.forward_tokens(backbone.views(local_crops))[:, 0])
            cls_tokens = torch.cat(cls)
            n_crops = cls_tokens.shape[0] // (tokens.shape[0] // self.n_global_crops)
            outputs["dino"] = self.student["dino_head"](cls_tokens).chunk(n_crops)
        if masks is not None:
            outputs["ibot"] = self._ibot_head(self.student)(tokens[:, backbone.num_prefix_tokens :][masks])
        return outputs

    def _loss_terms(
        self, outputs: dict[str, object], targets: dict[str, object], *, masks: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        """Unweighted loss terms; KoLeo is summed over the global crops, as dinov2; iBOT is 0 without masks."""
        terms: dict[str, torch.Tensor] = {}
        if "dino" in self.losses:
            terms["dino"] = self.losses["dino"](outputs["dino"], targets["dino"])
        if "ibot" in self.losses:
            terms["ibot"] = (
                self.losses["ibot"](outputs["ibot"], targets["ibot"], masks=masks)
                if masks is not None
                else torch.zeros((), device=outputs["global_cls"].device)
            )
        if "koleo" in self.losses:
            crops = outputs["global_cls"].chunk(self.n_global_crops)
            terms["koleo"] = torch.stack([self.losses["koleo"](crop) for crop in crops]).sum()
        return terms

    @staticmethod
    def _ibot_head(network: nn.ModuleDict) -> nn.Module:
        return network["ibot_head"] if "ibot_head" in network else network["dino_head"]


def _fewest_masked(masks: torch.Tensor) -> int:
    """Smallest number of masked patches over all processes (all ranks then skip iBOT together, no deadlock)."""
    count = torch.tensor(-float(masks.sum()), device=masks.device)
    return int(-all_reduce_max(count).item())


def _entropy(probs: torch.Tensor) -> torch.Tensor:
    """Mean per-row entropy (nats) of probabilities ``(M, K)``."""
    return -(probs * probs.clamp_min(1e-12).log()).sum(dim=-1).mean()


def build_meta_arch(cfg: DictConfig, *, in_chans: int) -> SSLMetaArch:
    """Build the meta-architecture from a training config (``configs/train/default.yaml`` keys).

    Parameters
    ----------
    cfg
        Resolved config with ``student``, ``dino``, ``ibot``, ``crops`` sections.
    in_chans
        Channels of the training images.
    """
    for key in ("global_crops_size", "local_crops_size"):
        if cfg.crops[key] % cfg.student.patch_size != 0:
            raise ValueError(
                f"crops.{key}: {cfg.crops[key]} is not a multiple of student.patch_size {cfg.student.patch_size}"
            )
    weights = {"dino": cfg.dino.loss_weight, "ibot": cfg.ibot.loss_weight, "koleo": cfg.dino.koleo_loss_weight}
    weights = {name: float(w) for name, w in weights.items() if w > 0}
    if not weights.keys() & {"dino", "ibot"}:
        raise ValueError("dino.loss_weight/ibot.loss_weight: at least one of them must be positive")
    heads = _head_names(cfg, weights)
    student = _build_network(cfg, in_chans=in_chans, drop_path_rate=cfg.student.drop_path_rate, heads=heads)
    teacher = _build_network(cfg, in_chans=in_chans, drop_path_rate=0.0, heads=heads)
    if cfg.student.init != "random":
        load_backbone_weights(student["backbone"], cfg.student.init)
    return SSLMetaArch(
        student,
        teacher,
        losses=_build_losses(cfg, weights),
        loss_weights=weights,
        n_global_crops=cfg.crops.n_global_crops,
        mask_probability=cfg.ibot.mask_sample_probability,
        mask_ratio_range=tuple(cfg.ibot.mask_ratio_min_max),
    )


def _head_names(cfg: DictConfig, weights: dict[str, float]) -> tuple[str, ...]:
    """``dino_head`` unless only a separate iBOT head is needed; ``ibot_head`` when iBOT has its own."""
    separate_ibot = "ibot" in weights and cfg.ibot.separate_head
    heads = ("dino_head",) if "dino" in weights or not separate_ibot else ()
    return heads + (("ibot_head",) if separate_ibot else ())


def _build_network(cfg: DictConfig, *, in_chans: int, drop_path_rate: float, heads: tuple[str, ...]) -> nn.ModuleDict:
    backbone: ViTBackbone = build_backbone(
        cfg.student.arch,
        in_chans=in_chans,
        img_size=cfg.crops.global_crops_size,
        patch_size=cfg.student.patch_size,
        channel_mode=cfg.student.channel_mode,
        drop_path_rate=drop_path_rate,
        layerscale=cfg.student.layerscale,
        depth=cfg.student.get("depth"),
    )
    sections = {"dino_head": cfg.dino, "ibot_head": cfg.ibot}
    return nn.ModuleDict(
        {"backbone": backbone, **{name: _build_head(sections[name], backbone.embed_dim) for name in heads}}
    )


def _build_head(section: DictConfig, in_dim: int) -> DINOHead:
    return DINOHead(
        in_dim,
        out_dim=section.head_n_prototypes,
        hidden_dim=section.head_hidden_dim,
        bottleneck_dim=section.head_bottleneck_dim,
        n_layers=section.head_n_layers,
        use_bn=section.head_use_bn,
    )


def _build_losses(cfg: DictConfig, weights: dict[str, float]) -> dict[str, nn.Module]:
    losses: dict[str, nn.Module] = {}
    if "dino" in weights:
        losses["dino"] = DINOLoss(cfg.dino.head_n_prototypes, **_centering_options(cfg.dino))
    if "ibot" in weights:
        section = cfg.ibot if cfg.ibot.separate_head else cfg.dino
        losses["ibot"] = IBOTPatchLoss(section.head_n_prototypes, **_centering_options(cfg.ibot))
    if "koleo" in weights:
        losses["koleo"] = KoLeoLoss()
    return losses


def _centering_options(section: DictConfig) -> dict[str, object]:
    return {
        "student_temp": section.student_temp,
        "centering": section.centering,
        "center_momentum": section.center_momentum,
        "sinkhorn_iterations": section.sinkhorn_iterations,
    }
