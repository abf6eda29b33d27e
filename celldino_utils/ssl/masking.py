"""Block-wise patch masks for iBOT (dinov2 ``MaskingGenerator`` and the masking part of its collate)."""

from __future__ import annotations

import math

import torch


def sample_masks(
    n_images: int,
    *,
    grid: tuple[int, int],
    probability: float,
    ratio_range: tuple[float, float],
    min_block: int = 4,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Boolean masks ``(n_images, h * w)``: a fraction ``probability`` of the images get masked blocks.

    The masked images get target ratios spread evenly over ``ratio_range`` (one random draw per
    equal-width bin, as dinov2), the others no mask; which images are masked is random.

    Parameters
    ----------
    n_images
        Number of (global-crop) images.
    grid
        Patch grid ``(h, w)``.
    probability
        Share of images that get a mask (dinov2 ``mask_sample_probability``).
    ratio_range
        ``(min, max)`` share of patches to mask in a masked image (dinov2 ``mask_ratio_min_max``).
    min_block
        Smallest block, in patches (fewer when fewer patches remain to mask).
    generator
        Source of randomness; the global torch generator when None.
    """
    h, w = grid
    if not 0.0 <= probability <= 1.0 or not 0.0 <= ratio_range[0] <= ratio_range[1] <= 1.0:
        raise ValueError(f"mask_sample_probability/mask_ratio_min_max: got {probability} and {list(ratio_range)}")
    masks = torch.zeros(n_images, h * w, dtype=torch.bool)
    n_masked = int(n_images * probability)
    bounds = torch.linspace(ratio_range[0], ratio_range[1], n_masked + 1).tolist()
    order = torch.randperm(n_images, generator=generator)
    for i in range(n_masked):
        ratio = bounds[i] + (bounds[i + 1] - bounds[i]) * torch.rand((), generator=generator).item()
        masks[order[i]] = _block_mask(h, w, n_target=int(h * w * ratio), min_block=min_block, generator=generator)
    return masks


def _block_mask(h: int, w: int, *, n_target: int, min_block: int, generator: torch.Generator | None) -> torch.Tensor:
    """Up to ``n_target`` patches of a ``(h, w)`` grid, masked as random rectangles of aspect ratio in [0.3, 3.3]."""
    mask = torch.zeros(h, w, dtype=torch.bool)
    log_aspect = (math.log(0.3), math.log(1 / 0.3))
    failures = 0
    while int(mask.sum()) < n_target and failures < 10:
        remaining = n_target - int(mask.sum())
        low = min(min_block, remaining)
        area = low + (remaining - low) * torch.rand((), generator=generator).item()
        aspect = math.exp(log_aspect[0] + (log_aspect[1] - log_aspect[0]) * torch.rand((), generator=generator).item())
        bh = max(1, min(h, int(round(math.sqrt(area * aspect)))))
        bw = max(1, min(w, int(round(math.sqrt(area / aspect)))))
        top = int(torch.randint(h - bh + 1, (), generator=generator))
        left = int(torch.randint(w - bw + 1, (), generator=generator))
        block = mask[top : top + bh, left : left + bw]
        new = int((~block).sum())
        if 0 < new <= remaining:
            block.fill_(True)
            failures = 0
        else:
            failures += 1
    return mask.flatten()
