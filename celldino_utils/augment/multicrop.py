"""Multi-crop augmentation for training and the evaluation transform (official Cell-DINO ``CellAugmentationDINO``).

Input images are float ``(C, H, W)`` in [0, 1], as ``celldino_utils.io`` datasets return them:
the recipe's "divide by 255" has already happened in the reader (uint16 data are divided by 65535).
Each crop then goes through, in order: drop one non-protein channel (p=0.2), rescale the protein
channel (p=0.2), random resized crop, flips, per-channel brightness and contrast jitter, and
self-normalisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from celldino_utils.augment.cell import (
    center_crop,
    drop_channel,
    jitter_brightness_contrast,
    random_flips,
    random_resized_crop,
    rescale_protein,
    resize_shorter_side,
    self_normalize,
)


class MultiCropAugmentation:
    """Global and local crops of one multi-channel cell image.

    Parameters
    ----------
    n_channels
        Channels of the images (checked on every call).
    protein_index
        Index of the protein-of-interest channel (HPA: 1), or None when there is none (Cell Painting):
        then any channel may be dropped and no protein rescaling happens.
    global_crops_size, local_crops_size
        Output sides in pixels.
    global_crops_scale, local_crops_scale
        Ranges of the crop area relative to the image.
    n_global_crops, local_crops_number
        Crops per image of each kind.
    drop_channel_p, protein_contrast_p
        Probabilities of the two channel augmentations.
    jitter_std, jitter_min
        Brightness/contrast factors are ``max(N(1, jitter_std), jitter_min)``.
    """

    def __init__(
        self,
        *,
        n_channels: int,
        protein_index: int | None,
        global_crops_size: int,
        local_crops_size: int,
        global_crops_scale: Sequence[float] = (0.4, 1.0),
        local_crops_scale: Sequence[float] = (0.005, 0.4),
        n_global_crops: int = 2,
        local_crops_number: int = 8,
        drop_channel_p: float = 0.2,
        protein_contrast_p: float = 0.2,
        jitter_std: float = 0.2,
        jitter_min: float = 0.5,
    ) -> None:
        if protein_index is not None and not 0 <= protein_index < n_channels:
            raise ValueError(f"protein_index: {protein_index} is out of range for {n_channels} channels")
        for name, scale in (("global_crops_scale", global_crops_scale), ("local_crops_scale", local_crops_scale)):
            if len(scale) != 2 or not 0.0 < scale[0] <= scale[1] <= 1.0:
                raise ValueError(f"{name}: expected (low, high) with 0 < low <= high <= 1, got {list(scale)}")
        if n_global_crops < 1 or local_crops_number < 0:
            raise ValueError(f"n_global_crops/local_crops_number: got {n_global_crops}/{local_crops_number}")
        self.n_channels = n_channels
        self.protein_index = protein_index
        self.global_crops_size = global_crops_size
        self.local_crops_size = local_crops_size
        self.global_crops_scale = (float(global_crops_scale[0]), float(global_crops_scale[1]))
        self.local_crops_scale = (float(local_crops_scale[0]), float(local_crops_scale[1]))
        self.n_global_crops = n_global_crops
        self.local_crops_number = local_crops_number
        self.drop_channel_p = drop_channel_p
        self.protein_contrast_p = protein_contrast_p
        self.jitter_std = jitter_std
        self.jitter_min = jitter_min

    def __call__(self, image: torch.Tensor, *, generator: torch.Generator) -> dict[str, list[torch.Tensor]]:
        """Crops of ``image`` ``(C, H, W)``: ``{"global_crops": [(C, G, G)] * n, "local_crops": [(C, L, L)] * m}``."""
        if image.ndim != 3 or image.shape[0] != self.n_channels:
            raise ValueError(f"image: expected shape ({self.n_channels}, H, W), got {tuple(image.shape)}")
        image = image.float()
        return {
            "global_crops": [
                self._crop(image, self.global_crops_size, self.global_crops_scale, generator)
                for _ in range(self.n_global_crops)
            ],
            "local_crops": [
                self._crop(image, self.local_crops_size, self.local_crops_scale, generator)
                for _ in range(self.local_crops_number)
            ],
        }

    def _crop(
        self, image: torch.Tensor, size: int, scale: tuple[float, float], generator: torch.Generator
    ) -> torch.Tensor:
        if torch.rand((), generator=generator).item() < self.drop_channel_p:
            image = drop_channel(image, protein_index=self.protein_index, generator=generator)
        if self.protein_index is not None and torch.rand((), generator=generator).item() < self.protein_contrast_p:
            image = rescale_protein(image, protein_index=self.protein_index, generator=generator)
        crop = random_resized_crop(image, size=size, scale=scale, generator=generator)
        crop = random_flips(crop, generator=generator)
        crop = jitter_brightness_contrast(crop, std=self.jitter_std, minimum=self.jitter_min, generator=generator)
        return self_normalize(crop)


class EvalTransform:
    """Evaluation transform: optional resize of the shorter side, centre crop, self-normalisation.

    Parameters
    ----------
    crop_size
        Side of the centre crop; None keeps the whole (resized) image.
    resize_size
        Shorter side after resizing; None or 0 for no resize.
    interpolation
        ``bilinear`` or ``bicubic`` (the official evaluation's), both antialiased.
    """

    def __init__(
        self, *, crop_size: int | None = None, resize_size: int | None = None, interpolation: str = "bilinear"
    ) -> None:
        self.crop_size = crop_size
        self.resize_size = resize_size or None
        self.interpolation = interpolation

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        """``(C, H, W)`` in [0, 1] -> self-normalised ``(C, crop_size, crop_size)``."""
        if image.ndim != 3:
            raise ValueError(f"image: expected shape (C, H, W), got {tuple(image.shape)}")
        image = image.float()
        if self.resize_size is not None:
            image = resize_shorter_side(image, size=self.resize_size, interpolation=self.interpolation)
        if self.crop_size is not None:
            image = center_crop(image, size=self.crop_size)
        return self_normalize(image)


def collate_crops(samples: Sequence[dict[str, list[torch.Tensor]]]) -> dict[str, torch.Tensor]:
    """Stack the crops of ``B`` samples crop-major, as dinov2's ``collate_data_and_cast``.

    Returns
    -------
    dict
        ``global_crops`` ``(n_global * B, C, G, G)`` and ``local_crops`` ``(n_local * B, C, L, L)``
        (left out when there are no local crops); row ``k * B + i`` holds crop ``k`` of sample ``i``.
    """
    batch = {"global_crops": _stack_crop_major([s["global_crops"] for s in samples])}
    if samples[0]["local_crops"]:
        batch["local_crops"] = _stack_crop_major([s["local_crops"] for s in samples])
    return batch


def _stack_crop_major(crops: list[list[torch.Tensor]]) -> torch.Tensor:
    return torch.stack([crop for k in range(len(crops[0])) for crop in (sample[k] for sample in crops)])
