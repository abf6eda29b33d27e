"""ViT backbones for Cell-DINO: timm Vision Transformers over all channels or over a bag of channels.

The Vision Transformer itself always comes from ``timm.create_model``; this module only adds
what self-distillation needs around it: the iBOT mask token (dinov2 ``DinoVisionTransformer``
keeps one in the backbone) and the channel handling of Cell-DINO (all channels, or a bag of channels).

- ``channel_mode="all"``: one ViT whose patch embedding takes every channel (``in_chans=C``).
- ``channel_mode="boc"`` (bag of channels, DINO-BoC): a 1-channel ViT sees each channel as its
  own image; the ``C`` class tokens are concatenated into one ``C x D`` embedding, so one model
  embeds any channel count.
"""

from __future__ import annotations

import math

import timm
import torch
import torch.nn.functional as F
from timm.models.vision_transformer import VisionTransformer
from torch import nn

#: Architecture names of the configs -> timm model names (patch and image size are overridden).
ARCHITECTURES: dict[str, str] = {
    "vit_tiny": "vit_tiny_patch16_224",
    "vit_small": "vit_small_patch16_224",
    "vit_base": "vit_base_patch16_224",
    "vit_large": "vit_large_patch16_224",
}
CHANNEL_MODES: tuple[str, ...] = ("all", "boc")


class ViTBackbone(nn.Module):
    """A timm ViT plus the learnable iBOT mask token; embeds images by their class token.

    Parameters
    ----------
    vit
        A timm ``VisionTransformer`` built with ``num_classes=0`` and ``dynamic_img_size=True``
        (global and local crops have different sizes).

    Attributes
    ----------
    pos_embed_offset : float or None
        None: at another input size the position embeddings are resampled as timm does (bicubic to the
        new grid, antialiased). A number: as the official dinov2 backbone does, bicubic by the scale factor
        ``(n + offset) / M`` without antialiasing (``interpolate_offset``), which released models need
        to give the official embeddings.
    """

    channel_mode = "all"

    def __init__(self, vit: VisionTransformer) -> None:
        super().__init__()
        self.vit = vit
        self.embed_dim: int = vit.embed_dim
        self.patch_size: int = vit.patch_embed.patch_size[0]
        self.num_prefix_tokens: int = vit.num_prefix_tokens
        self.mask_token = nn.Parameter(torch.zeros(1, vit.embed_dim))
        self.pos_embed_offset: float | None = None

    @property
    def in_chans(self) -> int:
        """Channels the patch embedding takes."""
        return self.vit.patch_embed.proj.in_channels

    def views(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``(B, C, H, W)`` as the ViT's inputs: unchanged here, ``(B*C, 1, H, W)`` in bag-of-channels mode."""
        if images.ndim != 4 or images.shape[1] != self.in_chans:
            raise ValueError(f"images: expected shape (B, {self.in_chans}, H, W), got {tuple(images.shape)}")
        return images

    def views_per_image(self, n_channels: int) -> int:
        """How many ViT inputs one image of ``n_channels`` channels becomes (1 here, C in bag-of-channels mode)."""
        return 1

    def forward_tokens(self, views: torch.Tensor, *, masks: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised output tokens of the ViT.

        Parameters
        ----------
        views
            ViT inputs ``(V, c, H, W)`` (see :meth:`views`).
        masks
            Optional boolean ``(V, N)``, ``N = (H / p) * (W / p)``: masked patches are replaced by the mask
            token before the position embedding (iBOT; dinov2 ``prepare_tokens_with_masks``).

        Returns
        -------
        torch.Tensor
            ``(V, P + N, D)``: ``P`` prefix tokens (class token first), then the patch tokens.
        """
        return self.vit.norm(self.vit.blocks(self._prepare_tokens(views, masks=masks)))

    def forward_last_blocks(self, views: torch.Tensor, *, n_blocks: int = 1) -> list[torch.Tensor]:
        """Normalised tokens ``(V, P + N, D)`` after each of the last ``n_blocks`` blocks, the last one last.

        The official linear-probe input (dinov2 ``get_intermediate_layers(x, n, norm=True)``).
        """
        blocks = list(self.vit.blocks)
        if not 1 <= n_blocks <= len(blocks):
            raise ValueError(f"n_blocks: must be between 1 and {len(blocks)}, got {n_blocks}")
        tokens, outputs = self._prepare_tokens(views), []
        for i, block in enumerate(blocks):
            tokens = block(tokens)
            if i >= len(blocks) - n_blocks:
                outputs.append(self.vit.norm(tokens))
        return outputs

    def _prepare_tokens(self, views: torch.Tensor, *, masks: torch.Tensor | None = None) -> torch.Tensor:
        """Patch embedding, mask tokens, prefix tokens and position embeddings: ``(V, P + N, D)``."""
        x = self.vit.patch_embed(views)  # (V, h, w, D) with dynamic_img_size
        if masks is not None:
            if masks.shape != (x.shape[0], x.shape[1] * x.shape[2]):
                raise ValueError(
                    f"masks: expected shape {(x.shape[0], x.shape[1] * x.shape[2])}, got {tuple(masks.shape)}"
                )
            x = torch.where(masks.view(*x.shape[:3], 1), self.mask_token.to(x.dtype), x)
        if self.pos_embed_offset is None:
            x = self.vit._pos_embed(x)
        else:
            x = self._pos_embed_with_offset(x)
        x = self.vit.patch_drop(x)
        return self.vit.norm_pre(x)

    def _pos_embed_with_offset(self, x: torch.Tensor) -> torch.Tensor:
        """Prefix tokens and position embeddings resampled as dinov2 does (``interpolate_offset``), ``(V, P + N, D)``.

        The ``M x M`` grid goes to the input's ``h x w`` patches by bicubic interpolation with the scale factor
        ``((h + offset) / M, (w + offset) / M)``, no antialiasing; the class token's embedding is kept.
        """
        v, h, w, dim = x.shape
        pos_embed = self.vit.pos_embed
        prefix, grid = pos_embed[:, : self.num_prefix_tokens], pos_embed[:, self.num_prefix_tokens :]
        side = math.isqrt(grid.shape[1])
        if (h, w) != (side, side):
            offset = float(self.pos_embed_offset)
            square = grid.float().reshape(1, side, side, dim).permute(0, 3, 1, 2)
            scale = ((h + offset) / side, (w + offset) / side)
            square = F.interpolate(square, scale_factor=scale, mode="bicubic", antialias=False)
            grid = square.permute(0, 2, 3, 1).reshape(1, h * w, dim).to(pos_embed.dtype)
        prefix_tokens = self.vit.cls_token.expand(v, -1, -1)
        tokens = torch.cat([prefix_tokens, x.reshape(v, h * w, dim)], dim=1)
        return self.vit.pos_drop(tokens + torch.cat([prefix, grid], dim=1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(B, E)`` of images ``(B, C, H, W)``: the class token, ``E = D``."""
        return self.forward_tokens(self.views(images))[:, 0]

    def embedding_dim(self, n_channels: int) -> int:
        """Size ``E`` of the embedding of an image with ``n_channels`` channels."""
        return self.embed_dim


class BagOfChannels(ViTBackbone):
    """Bag-of-channels backbone (DINO-BoC): a 1-channel ViT applied to every channel separately.

    ``forward`` returns the ``C`` class tokens concatenated, ``(B, C * D)``, for any ``C``.
    Its state dict has the same keys as :class:`ViTBackbone`, so weights move between the modes.
    """

    channel_mode = "boc"

    def __init__(self, vit: VisionTransformer) -> None:
        super().__init__(vit)
        if self.in_chans != 1:
            raise ValueError(f"in_chans: a bag-of-channels ViT takes 1 channel, got {self.in_chans}")

    def views(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``(B, C, H, W)`` as ``(B*C, 1, H, W)``: channels move into the batch, image-major."""
        if images.ndim != 4:
            raise ValueError(f"images: expected shape (B, C, H, W), got {tuple(images.shape)}")
        b, c, h, w = images.shape
        return images.reshape(b * c, 1, h, w)

    def views_per_image(self, n_channels: int) -> int:
        return n_channels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(B, C * D)``: the class tokens of the ``C`` channels, concatenated in channel order."""
        b = images.shape[0]
        return self.forward_tokens(self.views(images))[:, 0].reshape(b, -1)

    def embedding_dim(self, n_channels: int) -> int:
        return n_channels * self.embed_dim


def build_backbone(
    arch: str,
    *,
    in_chans: int,
    img_size: int,
    patch_size: int = 16,
    channel_mode: str = "all",
    drop_path_rate: float = 0.0,
    layerscale: float | None = None,
    depth: int | None = None,
) -> ViTBackbone:
    """Build a randomly initialised timm ViT backbone (never downloads weights).

    Parameters
    ----------
    arch
        ``vit_tiny``, ``vit_small``, ``vit_base`` or ``vit_large``.
    in_chans
        Channels of the images; in ``boc`` mode the ViT itself takes 1 channel and any count works.
    img_size
        Side of the (global) crops in pixels; must be a multiple of ``patch_size``. Other sizes
        (local crops, evaluation) work too: position embeddings are resampled on the fly.
    patch_size
        Side of a patch in pixels.
    channel_mode
        ``all`` or ``boc`` (bag of channels).
    drop_path_rate
        Stochastic depth rate of the last block (timm's linear rule: 0 at the first block).
    layerscale
        LayerScale init value (dinov2 ``layerscale``), or None/0 for no LayerScale.
    depth
        Transformer blocks; None for the architecture's own (12; ``vit_large`` 24).

    Returns
    -------
    ViTBackbone
        A :class:`ViTBackbone` or a :class:`BagOfChannels`.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch: unknown architecture {arch!r}; choose one of {sorted(ARCHITECTURES)}")
    if channel_mode not in CHANNEL_MODES:
        raise ValueError(f"channel_mode: unknown mode {channel_mode!r}; choose one of {list(CHANNEL_MODES)}")
    if depth is not None and depth < 1:
        raise ValueError(f"depth: must be at least 1 block, got {depth}")
    if in_chans < 1:
        raise ValueError(f"in_chans: must be at least 1, got {in_chans}")
    if patch_size < 1 or img_size % patch_size != 0:
        raise ValueError(f"img_size: {img_size} is not a multiple of patch_size {patch_size}")
    vit = timm.create_model(
        ARCHITECTURES[arch],
        pretrained=False,
        num_classes=0,
        in_chans=1 if channel_mode == "boc" else in_chans,
        img_size=img_size,
        patch_size=patch_size,
        drop_path_rate=drop_path_rate,
        init_values=layerscale or None,
        dynamic_img_size=True,
        **({} if depth is None else {"depth": depth}),
    )
    return BagOfChannels(vit) if channel_mode == "boc" else ViTBackbone(vit)
