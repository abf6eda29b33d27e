"""Backbones: timm ViTs over all channels or a bag of channels, the released models by name, foreign weights.

Layer 1 (with ``synthetic``, ``augment``): imports ``config`` and ``io`` only.
"""

from celldino_utils.models.release_files import (
    check_hash_suffix,
    default_weights_path,
    find_released_weights,
    release_names_text,
    released_folder,
    released_models_table,
    released_weights_file,
)
from celldino_utils.models.released import (
    MODEL_CARD_SUFFIXES,
    RELEASED_MODELS,
    RETIRED_NAMES,
    ReleasedModel,
    get_released_model,
    is_model_card,
    is_released_model,
    read_model_card,
)

# The backbones and weight loaders import torch and timm; they load on first use, so that the registry of released
# models (what the runner's check and freshness need) stays light.
_TORCH_NAMES = frozenset(
    {
        "ARCHITECTURES",
        "BRANCHES",
        "CHANNEL_MODES",
        "FEATURE_RECIPES",
        "Architecture",
        "BagOfChannels",
        "TokenFeatures",
        "ViTBackbone",
        "adapt_backbone_state",
        "build_backbone",
        "build_released_backbone",
        "extract_backbone_state",
        "load_backbone_weights",
        "load_released_model",
        "state_architecture",
    }
)


def __getattr__(name: str) -> object:
    if name in _TORCH_NAMES:
        from celldino_utils.models import backbone, features, release_load, weights

        return next(getattr(m, name) for m in (backbone, features, release_load, weights) if hasattr(m, name))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "BRANCHES",
    "CHANNEL_MODES",
    "FEATURE_RECIPES",
    "MODEL_CARD_SUFFIXES",
    "RELEASED_MODELS",
    "RETIRED_NAMES",
    "BagOfChannels",
    "ReleasedModel",
    "TokenFeatures",
    "ViTBackbone",
    "adapt_backbone_state",
    "build_backbone",
    "build_released_backbone",
    "check_hash_suffix",
    "default_weights_path",
    "extract_backbone_state",
    "find_released_weights",
    "get_released_model",
    "is_model_card",
    "is_released_model",
    "load_backbone_weights",
    "load_released_model",
    "read_model_card",
    "release_names_text",
    "released_folder",
    "released_models_table",
    "released_weights_file",
    "state_architecture",
]
