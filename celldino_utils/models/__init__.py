"""Backbones: timm ViTs over all channels or a bag of channels, the released models by name, foreign weights.

Layer 1 (with ``synthetic``, ``augment``): imports ``config`` and ``io`` only.
"""

from celldino_utils.models.backbone import ARCHITECTURES, CHANNEL_MODES, BagOfChannels, ViTBackbone, build_backbone
from celldino_utils.models.features import FEATURE_RECIPES, TokenFeatures
from celldino_utils.models.release_files import (
    check_hash_suffix,
    default_weights_path,
    find_released_weights,
    release_names_text,
    released_folder,
    released_models_table,
    released_weights_file,
)
from celldino_utils.models.release_load import (
    Architecture,
    build_released_backbone,
    load_released_model,
    state_architecture,
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
from celldino_utils.models.weights import BRANCHES, adapt_backbone_state, extract_backbone_state, load_backbone_weights

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
