"""Readers and writers: image formats, metadata tables, single-cell crops, the profile schema and published profiles.

Bottom layer (with ``config``): imports no other part of the package.
"""

from celldino_utils.io.channels import CELLPAINTING, HPA_FOV, HPA_KAGGLE, LAYOUTS, ChannelLayout, get_layout
from celldino_utils.io.classes import CLASS_LISTS, class_index, label_sets
from celldino_utils.io.profiles import (
    check_profiles,
    feature_columns,
    metadata_columns,
    read_profiles,
    to_profiles,
    write_profiles,
)
from celldino_utils.io.provenance import provenance_text, read_provenance
from celldino_utils.io.published import lincs_dose_recode, read_profile_table, read_published

# The datasets import torch; they load on first use so that data generation and table code stay light.
_DATASET_NAMES = (
    "CellDataset",
    "FieldDataset",
    "LEVELS",
    "load_field",
    "open_cells",
    "open_fields",
    "open_images",
    "read_index",
)


def __getattr__(name: str) -> object:
    if name in _DATASET_NAMES:
        from celldino_utils.io import datasets

        return getattr(datasets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CELLPAINTING",
    "CLASS_LISTS",
    "HPA_FOV",
    "HPA_KAGGLE",
    "LAYOUTS",
    "CellDataset",
    "ChannelLayout",
    "FieldDataset",
    "check_profiles",
    "class_index",
    "feature_columns",
    "get_layout",
    "label_sets",
    "lincs_dose_recode",
    "load_field",
    "metadata_columns",
    "open_cells",
    "open_fields",
    "open_images",
    "read_index",
    "provenance_text",
    "read_profiles",
    "read_profile_table",
    "read_provenance",
    "read_published",
    "to_profiles",
    "write_profiles",
]
