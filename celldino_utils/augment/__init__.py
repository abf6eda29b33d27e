"""Cell augmentations of the official Cell-DINO recipe: multi-crop for self-distillation, the evaluation transform.

Layer 1 (with ``synthetic``, ``models``): imports ``config`` and ``io`` only.
"""

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
