"""The one schema for embeddings and profiles: Parquet on disk, ``Metadata_*`` columns then features.

Every stage (embed, batch-correct, tables, figures) reads and writes through these functions, and
checks its input tables with them, so that a missing column, a NaN feature or a control query that
matches nothing fails the same way everywhere: the error names the column (and lists the ``Metadata_*``
columns that do exist), the parameter or the query. Columns are picked by prefix, never by position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from celldino_utils.io.h5ad import H5AD_SUFFIX, read_h5ad, write_h5ad
from celldino_utils.io.provenance import PROVENANCE_ATTR, PROVENANCE_KEY, decode_provenance, encode_provenance

METADATA_PREFIX = "Metadata_"
#: Negative-control wells (DMSO) of Cell Painting profiles: the rows sphering is fitted on and Table D leaves out.
CONTROL_COLUMN = "Metadata_pert_type"
CONTROL_VALUE = "control"
CONTROL_QUERY = f"{CONTROL_COLUMN} == {CONTROL_VALUE!r}"
FEATURE_PREFIX = "emb_"
#: Features made by the correction methods and the UMAP of the figures.
PCA_PREFIX = "pca_"
HARMONY_PREFIX = "harmony_"
SPHERED_PREFIX = "sphered_"
UMAP_PREFIX = "UMAP_"
#: Feature prefixes of CellProfiler profiles, one per compartment (``Cells_AreaShape_Area``,
#: ``Nuclei_Intensity_MeanIntensity_DNA``, ``Image_Granularity_1_Mito``...).
CELLPROFILER_PREFIXES = ("Cells_", "Cytoplasm_", "Nuclei_", "Image_")
#: Every prefix a feature column may have: features are picked by these, never as "whatever is not metadata".
FEATURE_PREFIXES = (FEATURE_PREFIX, PCA_PREFIX, HARMONY_PREFIX, SPHERED_PREFIX, UMAP_PREFIX, *CELLPROFILER_PREFIXES)


def metadata_columns(profiles: pd.DataFrame) -> list[str]:
    """Names of the ``Metadata_*`` columns of ``profiles``, in table order."""
    return [c for c in profiles.columns if str(c).startswith(METADATA_PREFIX)]


def is_feature(column: object) -> bool:
    """Whether a column name has one of the declared :data:`FEATURE_PREFIXES`."""
    return str(column).startswith(FEATURE_PREFIXES)


def feature_columns(profiles: pd.DataFrame) -> list[str]:
    """Names of the feature columns (those with a prefix of :data:`FEATURE_PREFIXES`), in table order."""
    return [c for c in profiles.columns if is_feature(c)]


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

    Checks: every column of ``require`` present, every other column either metadata or a feature (a
    prefix of :data:`FEATURE_PREFIXES`), at least one feature column, every feature numeric and finite.
    """
    missing = [c for c in require if c not in profiles.columns]
    if missing:
        raise ValueError(f"{source}: missing required column(s) {missing}")
    stray = [c for c in profiles.columns if not str(c).startswith(METADATA_PREFIX) and not is_feature(c)]
    if stray:
        raise ValueError(
            f"{source}: column(s) {stray[:5]} are neither metadata ({METADATA_PREFIX}*) nor features "
            f"(prefixes {list(FEATURE_PREFIXES)})"
        )
    features = feature_columns(profiles)
    if not features:
        raise ValueError(f"{source}: no feature columns (prefixes {list(FEATURE_PREFIXES)})")
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


def write_profiles(profiles: pd.DataFrame, path: str | Path, *, provenance: Mapping[str, Any] | None = None) -> Path:
    """Write a profile table to Parquet, metadata columns first; to AnnData when ``path`` ends in ``.h5ad``.

    ``provenance`` (plain JSON values: the model, its weights file and SHA-256, the channels fed; see
    :func:`celldino_utils.io.provenance.read_provenance`) goes into the file's footer, not its columns (an
    AnnData file: into ``uns``, the features into ``X``, the metadata into ``obs``; :mod:`celldino_utils.io.h5ad`).
    """
    path = Path(path)
    check_profiles(profiles, source=str(path))
    if path.suffix == H5AD_SUFFIX:
        features = feature_columns(profiles)
        values = profiles[features].to_numpy()
        return write_h5ad(profiles[metadata_columns(profiles)], values, path, names=features, provenance=provenance)
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = profiles[metadata_columns(profiles) + feature_columns(profiles)]
    table = pa.Table.from_pandas(ordered, preserve_index=False)
    if provenance:
        table = table.replace_schema_metadata({**table.schema.metadata, PROVENANCE_KEY: encode_provenance(provenance)})
    pq.write_table(table, path)
    return path


def read_profiles(path: str | Path, *, require: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a profile table written by :func:`write_profiles` (or any table in the same schema): Parquet, or
    AnnData (``.h5ad``: ``obs`` then ``X`` under the ``var_names``).

    Its provenance record, when the file has one, is in ``attrs["provenance"]`` of the table returned.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"profile file not found: {path}")
    if path.suffix == H5AD_SUFFIX:
        metadata, features, names, provenance = read_h5ad(path)
        profiles = pd.concat([metadata, pd.DataFrame(features, columns=names)], axis=1)
    else:
        profiles = pd.read_parquet(path)
        provenance = decode_provenance(pq.read_schema(path).metadata)
    check_profiles(profiles, source=str(path), require=require)
    if provenance:
        profiles.attrs[PROVENANCE_ATTR] = provenance
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


def require_metadata(profiles: pd.DataFrame, columns: Sequence[str], *, source: str) -> None:
    """Raise ``ValueError`` unless every metadata column of ``columns`` exists and has a value in every row.

    Profile tables have hundreds of feature columns, so the message lists only the ``Metadata_*``
    columns that are present (a misspelt batch variable is easy to fix), unlike the raw-table check
    :func:`celldino_utils.io.tables.require_columns`.
    """
    missing = [c for c in columns if c not in profiles.columns]
    if missing:
        raise ValueError(
            f"{source}: missing metadata column(s) {missing}; available Metadata_ columns: {metadata_columns(profiles)}"
        )
    empty = [c for c in columns if profiles[c].isna().any()]
    if empty:
        counts = {c: int(profiles[c].isna().sum()) for c in empty}
        raise ValueError(f"{source}: missing values in metadata column(s) {counts} (column: number of rows)")


def feature_matrix(profiles: pd.DataFrame, *, source: str) -> np.ndarray:
    """The ``(N, D)`` float64 feature matrix of a profile table, after checking it.

    Raises ``ValueError`` (through :func:`celldino_utils.io.profiles.check_profiles`) if there is no
    feature column, a non-numeric one, or NaN/infinite values; the message names the columns and
    counts the rows. Nothing is dropped.
    """
    check_profiles(profiles, source=source)
    return profiles[feature_columns(profiles)].to_numpy(dtype=np.float64)


def query_mask(profiles: pd.DataFrame, query: str, *, source: str, parameter: str) -> np.ndarray:
    """Boolean mask, shape ``(N,)``, of the rows of ``profiles`` that match a pandas ``query``.

    Raises ``ValueError`` naming ``parameter`` if the query does not evaluate or matches no row.
    """
    try:
        mask = np.asarray(profiles.eval(query), dtype=bool)
    except Exception as err:  # pandas raises several types (UndefinedVariableError, SyntaxError, ...)
        raise ValueError(
            f"{source}: {parameter}={query!r} does not evaluate ({err}); "
            f"available Metadata_ columns: {metadata_columns(profiles)}"
        ) from err
    if mask.shape != (len(profiles),):
        raise ValueError(f"{source}: {parameter}={query!r} must give one boolean per row")
    if not mask.any():
        raise ValueError(f"{source}: {parameter}={query!r} matches none of the {len(profiles)} rows")
    return mask


def require_groups(labels: pd.Series, *, minimum: int, source: str) -> None:
    """Raise ``ValueError`` if ``labels`` (a named column) holds fewer than ``minimum`` distinct values."""
    values = labels.unique()
    if len(values) < minimum:
        raise ValueError(
            f"{source}: column {labels.name!r} needs at least {minimum} distinct values, "
            f"found {len(values)}: {list(values)[:5]}"
        )


def with_features(profiles: pd.DataFrame, values: np.ndarray, *, names: Sequence[str]) -> pd.DataFrame:
    """The ``Metadata_*`` columns of ``profiles`` (same rows, order and index) joined to new features.

    ``values`` has shape ``(N, D)`` and ``names`` holds the ``D`` new feature names.
    """
    values = np.asarray(values)
    if values.shape != (len(profiles), len(names)):
        raise ValueError(f"features of shape {values.shape} do not match {len(profiles)} rows x {len(names)} names")
    features = pd.DataFrame(values, index=profiles.index, columns=list(names))
    return pd.concat([profiles[metadata_columns(profiles)].copy(), features], axis=1)


def restore_metadata(grouped: pd.DataFrame, original: pd.DataFrame, *, by: Sequence[str]) -> pd.DataFrame:
    """Add back to a grouped table every ``Metadata_*`` column of ``original`` constant within each group.

    pycytominer's ``aggregate`` and ``consensus`` keep only the grouping columns; columns such as
    ``Metadata_moa`` are constant within a well or a compound and belong in the output. Columns
    that vary within a group (``Metadata_ObjectNumber``, ...) have no group-level value and are
    left out. The result has the rows of ``grouped`` in its order, metadata first.
    """
    others = [c for c in metadata_columns(original) if c not in by]
    groups = original.groupby(list(by), dropna=False, sort=False)
    constant = [c for c in others if (groups[c].nunique(dropna=False) <= 1).all()]
    first = groups[constant].first().reset_index()
    merged = grouped.merge(first, on=list(by), how="left", validate="one_to_one")
    meta = [*by, *constant]
    return merged[meta + [c for c in merged.columns if c not in meta]]
