"""Feature recipes: which tokens of a frozen backbone make an image's embedding (the official linear probe's inputs)."""

from __future__ import annotations

import torch
from torch import nn

from celldino_utils.models.backbone import ViTBackbone

#: ``cls``: the class token after the final norm. ``cls+patch_mean``: the class token(s) followed by the mean of
#: the last block's normed patch tokens (dinov2 ``create_linear_input`` with ``use_avgpool``).
FEATURE_RECIPES: tuple[str, ...] = ("cls", "cls+patch_mean")


class TokenFeatures(nn.Module):
    """A frozen backbone that returns one feature vector per image, by a recipe of the official evaluation.

    Parameters
    ----------
    backbone
        A :class:`ViTBackbone` (all channels, or a bag of channels).
    recipe
        One of :data:`FEATURE_RECIPES`.
    n_last_blocks
        Concatenate the class tokens of the last ``n`` blocks (each after the final norm), oldest first.

    Notes
    -----
    ``forward(images (B, C, H, W))`` returns ``(B, F)``, ``F = (n_last_blocks + [patch mean]) * E`` with
    ``E = backbone.embedding_dim(C)``. For a bag of channels each part is the ``C`` channels' tokens
    concatenated in channel order, as the official channel-adaptive model returns them.
    """

    def __init__(self, backbone: ViTBackbone, *, recipe: str = "cls", n_last_blocks: int = 1) -> None:
        super().__init__()
        if recipe not in FEATURE_RECIPES:
            raise ValueError(f"recipe: unknown feature recipe {recipe!r}; choose one of {list(FEATURE_RECIPES)}")
        if n_last_blocks < 1:
            raise ValueError(f"n_last_blocks: must be at least 1, got {n_last_blocks}")
        self.backbone = backbone
        self.recipe = recipe
        self.n_last_blocks = n_last_blocks

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features ``(B, F)`` of images ``(B, C, H, W)``."""
        batch = images.shape[0]
        outputs = self.backbone.forward_last_blocks(self.backbone.views(images), n_blocks=self.n_last_blocks)
        parts = [tokens[:, 0] for tokens in outputs]
        if self.recipe == "cls+patch_mean":
            parts.append(outputs[-1][:, self.backbone.num_prefix_tokens :].mean(dim=1))
        return torch.cat([part.reshape(batch, -1) for part in parts], dim=1)

    def feature_dim(self, n_channels: int) -> int:
        """Size ``F`` of the features of an image with ``n_channels`` channels."""
        n_parts = self.n_last_blocks + (self.recipe == "cls+patch_mean")
        return n_parts * self.backbone.embedding_dim(n_channels)
