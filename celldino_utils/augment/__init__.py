"""Cell augmentations: multi-crop for self-distillation and the evaluation transform (SPEC §2)."""

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
from celldino_utils.augment.multicrop import EvalTransform, MultiCropAugmentation, collate_crops

__all__ = [
    "EvalTransform",
    "MultiCropAugmentation",
    "center_crop",
    "collate_crops",
    "drop_channel",
    "jitter_brightness_contrast",
    "random_flips",
    "random_resized_crop",
    "rescale_protein",
    "resize_shorter_side",
    "self_normalize",
]
