"""The one on-disk schema for embeddings and profiles: Parquet, ``Metadata_*`` then features.

Every stage (embed, batch-correct, tables, figures) reads and writes through
these functions. Columns are picked by prefix, never by position.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

METADATA_PREFIX = "Metadata_"
FEATURE_PREFIX = "emb_"
#: Feature prefixes of CellProfiler profiles, one per compartment (``Cells_AreaShape_Area``,
#: ``Nuclei_Intensity_MeanIntensity_DNA``, ``Image_Granularity_1_Mito``...).
CELLPROFILER_PREFIXES = ("Cells_", "Cytoplasm_", "Nuclei_", "Image_")


def metadata_columns(profiles: pd.DataFrame) -> list[str]:
    """Names of the ``Metadata_*`` columns of ``profiles``, in table order."""
    return [c for c in profiles.columns if str(c).startswith(METADATA_PREFIX)]


def feature_columns(profiles: pd.DataFrame) -> list[str]:
    """Names of the feature columns (every column that is not ``Metadata_*``), in table order."""
    return [c for c in profiles.columns if not str(c).startswith(METADATA_PREFIX)]


def feature_names(n_features: int, *, prefix: str = FEATURE_PREFIX) -> list[str]:
    """Feature column names ``emb_0000``, ``emb_0001``, ... for ``n_features`` features."""
    width = max(4, len(str(n_features - 1)))
    return [f"{prefix}{i:0{width}d}" for i in range(n_features)]


def to_profiles(metadata: pd.DataFrame, features: np.ndarray, *, names: list[str] | None = None) -> pd.DataFrame:
    """Join a metadata table and an ``(N, D)`` feature matrix into one profile table.

    Metadata columns that lack the ``Metadata_`` prefix get it.
    """
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[0] != len(metadata):
        raise ValueError(f"features of shape {features.shape} do not match {len(metadata)} metadata rows")
    names = names if names is not None else feature_names(features.shape[1])
    if len(names) != features.shape[1]:
        raise ValueError(f"{len(names)} feature names for {features.shape[1]} features")
    meta = metadata.reset_index(drop=True).rename(
        columns=lambda c: c if str(c).startswith(METADATA_PREFIX) else f"{METADATA_PREFIX}{c}"
    )
    return pd.concat([meta, pd.DataFrame(features, columns=names)], axis=1)


def check_profiles(profiles: pd.DataFrame, *, source: str, require: list[str] | tuple[str, ...] = ()) -> None:
    """Raise ValueError naming ``source`` if the table breaks the schema.

    Checks: at least one feature column, every feature numeric and finite,
    every column of ``require`` present.
    """
    missing = [c for c in require if c not in profiles.columns]
    if missing:
        raise ValueError(f"{source}: missing required column(s) {missing}")
    features = feature_columns(profiles)
    if not features:
        raise ValueError(f"{source}: no feature columns (every column starts with {METADATA_PREFIX!r})")
    non_numeric = [c for c in features if not pd.api.types.is_numeric_dtype(profiles[c])]
    if non_numeric:
        raise ValueError(
            f"{source}: non-numeric feature column(s) {non_numeric[:5]}; metadata must start with {METADATA_PREFIX!r}"
        )
    values = profiles[features].to_numpy()
    if not np.isfinite(values).all():
        bad_rows = int((~np.isfinite(values)).any(axis=1).sum())
        bad_cols = [c for c in features if not np.isfinite(profiles[c].to_numpy()).all()]
        raise ValueError(f"{source}: {bad_rows} row(s) hold NaN or infinite features, in column(s) {bad_cols[:5]}")


def write_profiles(profiles: pd.DataFrame, path: str | Path) -> Path:
    """Write a profile table to Parquet, metadata columns first."""
    path = Path(path)
    check_profiles(profiles, source=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = profiles[metadata_columns(profiles) + feature_columns(profiles)]
    ordered.to_parquet(path, index=False)
    return path


def read_profiles(path: str | Path, *, require: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a profile table written by :func:`write_profiles` (or any table in the same schema)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"profile file not found: {path}")
    profiles = pd.read_parquet(path)
    check_profiles(profiles, source=str(path), require=require)
    return profiles


def profile_path(folder: str | Path, *, dataset: str, level: str, features: str, correction: str | None = None) -> Path:
    """The file of one profile set: ``<folder>/<dataset>_<level>_<features>[_<correction>].parquet``.

    For example ``hpa_fov_celldino.parquet`` or ``cp_well_cellprofiler_sphering.parquet``.
    """
    parts = [dataset, level, features] + ([correction] if correction else [])
    bad = [p for p in parts if not p or "_" in p or "/" in p]
    if bad:
        raise ValueError(f"profile name parts must be non-empty and free of '_' and '/': {bad}")
    return Path(folder) / ("_".join(parts) + ".parquet")
