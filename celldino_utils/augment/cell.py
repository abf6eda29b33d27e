"""Cell-image augmentations of the official Cell-DINO code, as pure functions of a tensor.

Every function takes an image ``(C, H, W)`` of floats in [0, 1] (our datasets already divide
by 255 or 65535, which is the recipe's first step) and returns a new tensor; randomness comes only
from the ``generator`` argument, so one seed reproduces a crop exactly in any worker process.
Nothing here assumes RGB: channels are handled one by one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_EPS = 1e-7
#: Resampling modes of :func:`resize_shorter_side` (the official evaluation resizes bicubic).
INTERPOLATIONS: tuple[str, ...] = ("bilinear", "bicubic")


def uniform(low: float, high: float, *, generator: torch.Generator) -> float:
    """One draw from U(low, high)."""
    return low + (high - low) * torch.rand((), generator=generator).item()


def drop_channel(image: torch.Tensor, *, protein_index: int | None, generator: torch.Generator) -> torch.Tensor:
    """Zero one channel chosen at random, never the protein channel (``RandomRemoveChannelExceptProtein``).

    Parameters
    ----------
    image
        ``(C, H, W)``.
    protein_index
        Channel that must survive, or None when every channel may be dropped (Cell Painting).

    Returns
    -------
    torch.Tensor
        A copy with one channel set to 0; unchanged when fewer than two channels exist.
    """
    candidates = [c for c in range(image.shape[0]) if c != protein_index]
    if image.shape[0] < 2 or not candidates:
        return image
    channel = candidates[int(torch.randint(len(candidates), (), generator=generator))]
    out = image.clone()
    out[channel] = 0.0
    return out


def rescale_protein(image: torch.Tensor, *, protein_index: int, generator: torch.Generator) -> torch.Tensor:
    """Multiply the protein channel by ``U(0, 2) / max(image)`` (``RandomContrastProteinChannel``)."""
    peak = float(image.max())
    if peak <= 0.0 or image.shape[0] < 2:
        return image
    out = image.clone()
    out[protein_index] = out[protein_index] * (uniform(0.0, 2.0, generator=generator) / peak)
    return out


def random_resized_crop(
    image: torch.Tensor,
    *,
    size: int,
    scale: tuple[float, float],
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    generator: torch.Generator,
) -> torch.Tensor:
    """Crop a random box of relative area in ``scale`` and aspect ratio in ``ratio``; resize it to ``(C, size, size)``.

    Follows torchvision ``RandomResizedCrop`` (10 tries, then the largest centred box of allowed ratio);
    resizing is bilinear with antialiasing.
    """
    top, left, h, w = _crop_box(image.shape[-2], image.shape[-1], scale=scale, ratio=ratio, generator=generator)
    crop = image[None, :, top : top + h, left : left + w]
    return F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]


def _crop_box(
    height: int, width: int, *, scale: tuple[float, float], ratio: tuple[float, float], generator: torch.Generator
) -> tuple[int, int, int, int]:
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * uniform(scale[0], scale[1], generator=generator)
        aspect = math.exp(uniform(*log_ratio, generator=generator))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(height - h + 1, (), generator=generator))
            left = int(torch.randint(width - w + 1, (), generator=generator))
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        h, w = height, int(round(height * ratio[1]))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def random_flips(image: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
    """Flip horizontally and, independently, vertically, each with probability 0.5."""
    dims = [d for d in (-1, -2) if torch.rand((), generator=generator).item() < 0.5]
    return image.flip(dims) if dims else image


def jitter_brightness_contrast(
    image: torch.Tensor, *, std: float, minimum: float, generator: torch.Generator
) -> torch.Tensor:
    """Per channel, scale brightness then contrast by factors ``max(N(1, std), minimum)``, clipping to [0, 1].

    Brightness is ``clip(f * x)``; contrast is ``clip(f * x + (1 - f) * mean(x))`` (torchvision
    ``adjust_brightness`` / ``adjust_contrast`` on one channel, ``RandomBrightness``/``RandomContrast``).
    """
    if float(image.max()) <= 0.0:
        return image
    n = image.shape[0]
    brightness = (1.0 + std * torch.randn(n, generator=generator)).clamp_min(minimum).view(n, 1, 1)
    contrast = (1.0 + std * torch.randn(n, generator=generator)).clamp_min(minimum).view(n, 1, 1)
    out = (image * brightness).clamp(0.0, 1.0)
    mean = out.mean(dim=(-2, -1), keepdim=True)
    return (contrast * out + (1.0 - contrast) * mean).clamp(0.0, 1.0)


def self_normalize(image: torch.Tensor) -> torch.Tensor:
    """Per image and channel: ``(x - mean) / (std + 1e-7)`` with the population std, over the last two axes."""
    mean = image.mean(dim=(-2, -1), keepdim=True)
    std = image.std(dim=(-2, -1), correction=0, keepdim=True)
    return (image - mean) / (std + _EPS)


def center_crop(image: torch.Tensor, *, size: int) -> torch.Tensor:
    """The centred ``(C, size, size)`` window; raise ValueError if the image is smaller."""
    height, width = image.shape[-2:]
    if size > height or size > width:
        raise ValueError(f"crop_size: {size} is larger than the image ({height} x {width})")
    top, left = (height - size) // 2, (width - size) // 2
    return image[..., top : top + size, left : left + size]


def resize_shorter_side(image: torch.Tensor, *, size: int, interpolation: str = "bilinear") -> torch.Tensor:
    """Resize ``(C, H, W)`` so that its shorter side is ``size`` (``bilinear`` or ``bicubic``, antialiased).

    An image whose shorter side is already ``size`` is returned as it is (no resampling).
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation: unknown mode {interpolation!r}; choose one of {list(INTERPOLATIONS)}")
    height, width = image.shape[-2:]
    if min(height, width) == size:
        return image
    factor = size / min(height, width)
    new = (max(1, round(height * factor)), max(1, round(width * factor)))
    return F.interpolate(image[None], size=new, mode=interpolation, antialias=True, align_corners=False)[0]
