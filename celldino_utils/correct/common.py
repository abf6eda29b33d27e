"""Checks and table plumbing shared by the correction methods and the batch-correction metrics.

Every public function of ``correct`` and ``evaluate.batch_metrics`` validates its input here, so
that a missing column, a NaN feature or a control query that matches nothing fails the same way
everywhere: the error names the column (and lists the ``Metadata_*`` columns that do exist), the
parameter or the query.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from celldino_utils.io.profiles import check_profiles, feature_columns, metadata_columns


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
