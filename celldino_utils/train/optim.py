"""AdamW with dinov2's parameter groups: layer-wise lr decay, slower patch embedding, no decay on norms and biases."""

from __future__ import annotations

import re

import torch
from omegaconf import DictConfig
from torch import nn

_EMBEDDING = re.compile(r"backbone\.(vit\.)?(cls_token|pos_embed|reg_token|mask_token|patch_embed)\b")
_TOKENS = ("cls_token", "pos_embed", "reg_token", "mask_token")
_BLOCK = re.compile(r"backbone\.vit\.blocks\.(\d+)\.")


def param_groups(student: nn.ModuleDict, *, layerwise_decay: float, patch_embed_lr_mult: float) -> list[dict]:
    """Parameter groups of the student, fused by identical multipliers (dinov2 ``get_params_groups_with_decay``).

    Each group carries ``lr_multiplier`` (``layerwise_decay ** (n_blocks + 1 - layer)``, times
    ``patch_embed_lr_mult`` for the patch embedding; layer 0 = embeddings, ``i + 1`` = block ``i``,
    ``n_blocks + 1`` = final norm and heads), ``wd_multiplier`` (0 for biases, norms, LayerScale
    and tokens) and ``is_last_layer`` (the prototypes, frozen at the start). Frozen parameters are left out.
    """
    n_blocks = len(student["backbone"].vit.blocks)
    groups: dict[tuple[float, float, bool], dict] = {}
    for name, param in student.named_parameters():
        if not param.requires_grad:
            continue
        lr_mult = layerwise_decay ** (n_blocks + 1 - _layer_id(name, n_blocks))
        if "patch_embed" in name:
            lr_mult *= patch_embed_lr_mult
        no_decay = param.ndim <= 1 or any(token in name for token in _TOKENS)
        key = (lr_mult, 0.0 if no_decay else 1.0, ".last_layer." in name)
        group = groups.setdefault(
            key, {"params": [], "lr_multiplier": key[0], "wd_multiplier": key[1], "is_last_layer": key[2]}
        )
        group["params"].append(param)
    return list(groups.values())


def _layer_id(name: str, n_blocks: int) -> int:
    if _EMBEDDING.match(name):
        return 0
    match = _BLOCK.match(name)
    return int(match.group(1)) + 1 if match else n_blocks + 1


def build_optimizer(student: nn.ModuleDict, optim: DictConfig) -> torch.optim.AdamW:
    """AdamW over :func:`param_groups`; lr and weight decay are set every step by :func:`apply_schedules`."""
    groups = param_groups(student, layerwise_decay=optim.layerwise_decay, patch_embed_lr_mult=optim.patch_embed_lr_mult)
    return torch.optim.AdamW(groups, lr=0.0, weight_decay=0.0, betas=(optim.adamw_beta1, optim.adamw_beta2))


def apply_schedules(optimizer: torch.optim.Optimizer, *, lr: float, last_layer_lr: float, weight_decay: float) -> None:
    """Set each group's lr and weight decay from this step's schedule values and the group multipliers."""
    for group in optimizer.param_groups:
        group["lr"] = (last_layer_lr if group["is_last_layer"] else lr) * group["lr_multiplier"]
        group["weight_decay"] = weight_decay * group["wd_multiplier"]
