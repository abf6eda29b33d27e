"""Backbones: timm ViTs over all channels or a bag of channels, and loading of foreign weights."""

from celldino_utils.models.backbone import ARCHITECTURES, CHANNEL_MODES, BagOfChannels, ViTBackbone, build_backbone
from celldino_utils.models.weights import BRANCHES, adapt_backbone_state, extract_backbone_state, load_backbone_weights

__all__ = [
    "ARCHITECTURES",
    "BRANCHES",
    "CHANNEL_MODES",
    "BagOfChannels",
    "ViTBackbone",
    "adapt_backbone_state",
    "build_backbone",
    "extract_backbone_state",
    "load_backbone_weights",
]
