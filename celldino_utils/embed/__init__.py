"""Embedding: frozen backbones over fields of view and single cells, written as Parquet profiles."""

from celldino_utils.embed.extract import embed_batches, embed_to_parquet
from celldino_utils.embed.model import RANDOM_INIT, checkpoint_architecture, load_embedding_model, resolve_checkpoint
from celldino_utils.embed.pipeline import LEVELS, embed_data
from celldino_utils.embed.suite import cellprofiler_suite, embed_suite

__all__ = [
    "LEVELS",
    "RANDOM_INIT",
    "checkpoint_architecture",
    "embed_batches",
    "embed_data",
    "cellprofiler_suite",
    "embed_suite",
    "embed_to_parquet",
    "load_embedding_model",
    "resolve_checkpoint",
]
