"""Embedding: frozen backbones over fields of view and single cells, written as Parquet profiles.

Layer 3, a stage (with ``correct``, ``evaluate``, ``plot``): imports the layers below; never ``chapters``.
"""

from celldino_utils.embed.extract import embed_batches, embed_to_parquet
from celldino_utils.embed.model import (
    RANDOM_INIT,
    checkpoint_architecture,
    feed_order,
    load_embedding_model,
    random_init_twin,
    resolve_checkpoint,
    training_scale,
)
from celldino_utils.embed.pipeline import LEVELS, embed_data

__all__ = [
    "LEVELS",
    "RANDOM_INIT",
    "checkpoint_architecture",
    "embed_batches",
    "embed_data",
    "embed_to_parquet",
    "feed_order",
    "load_embedding_model",
    "random_init_twin",
    "resolve_checkpoint",
    "training_scale",
]
