"""Cell Painting profile processing and sphering on negative controls (supplement Figure C, right).

The chain follows the LINCS levels of Way et al. 2022: single cells are aggregated to wells
(level 3), normalised per plate against the DMSO wells with ``mad_robustize`` (level 4a), feature
selected (level 4b), reduced with PCA to fewer dimensions than there are DMSO wells, and sphered
(ZCA whitening fitted on the DMSO wells; Arevalo et al. 2024). ``consensus`` collapses replicates
(level 5). pycytominer (>= 1.7.1, the first release whose sphering is right) does the work, always
with explicit ``features=`` / ``meta_features=`` since embedding columns are not CellProfiler names.

Two entry points: :func:`sphering` takes well-level profiles (the registered method),
:func:`sphering_from_cells` takes single cells and aggregates them first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pycytominer
from scipy.stats import median_abs_deviation

from celldino_utils.correct.common import (
    feature_matrix,
    query_mask,
    require_metadata,
    restore_metadata,
    with_features,
)
from celldino_utils.correct.pca import PCA_PREFIX, pca_matrix
from celldino_utils.io.profiles import feature_columns, feature_names, metadata_columns

logger = logging.getLogger(__name__)

CONTROL_QUERY = "Metadata_pert_type == 'control'"
SPHERED_PREFIX = "sphered_"


def aggregate_wells(
    single_cells: pd.DataFrame,
    *,
    strata: Sequence[str] = ("Metadata_Plate", "Metadata_Well"),
    operation: str = "median",
) -> pd.DataFrame:
    """Aggregate single-cell profiles to one profile per well (LINCS level 3).

    Parameters
    ----------
    single_cells
        One row per cell: ``Metadata_*`` columns (including ``strata``) and numeric features.
    strata
        Columns that identify a well.
    operation
        ``"median"`` or ``"mean"`` (pycytominer ``aggregate``).

    Returns
    -------
    pandas.DataFrame
        One row per well, sorted by ``strata``: the ``strata``, every other ``Metadata_*`` column that
        is constant within each well (per-cell columns such as object numbers are left out), then the
        aggregated features under their input names.
    """
    source = "aggregate_wells(single_cells)"
    require_metadata(single_cells, strata, source=source)
    feature_matrix(single_cells, source=source)
    wells = pycytominer.aggregate(
        single_cells,
        strata=list(strata),
        features=feature_columns(single_cells),
        operation=operation,
        output_file=None,
    )
    return restore_metadata(wells, single_cells, by=strata)


def _controls_per_plate(wells: pd.DataFrame, controls: np.ndarray, *, plate_col: str, query: str, source: str) -> None:
    counts = pd.Series(controls, index=wells.index).groupby(wells[plate_col], sort=True).sum()
    few = counts[counts < 2]
    if len(few):
        raise ValueError(
            f"{source}: per-plate normalisation needs at least 2 control wells per plate; "
            f"control_query={query!r} matches fewer on {len(few)} plate(s): {few.astype(int).to_dict()}"
        )


def _zero_mad(plate: pd.DataFrame, controls: np.ndarray) -> list[str]:
    """Features whose MAD on the controls is 0 while they vary on the plate (mad_robustize divides by ~0)."""
    features = feature_columns(plate)
    mad = median_abs_deviation(plate.loc[controls, features].to_numpy(dtype=np.float64), axis=0)
    varies = plate[features].nunique().to_numpy() > 1
    return [f for f, m, v in zip(features, mad, varies, strict=True) if m == 0 and v]


def normalize_plates(
    wells: pd.DataFrame,
    *,
    method: str = "mad_robustize",
    control_query: str = CONTROL_QUERY,
    plate_col: str = "Metadata_Plate",
    mad_epsilon: float = 1e-18,
    zero_mad: str = "raise",
) -> pd.DataFrame:
    """Normalise each plate against its control wells (LINCS level 4a).

    Parameters
    ----------
    wells
        Well-level profiles with ``plate_col`` and the columns named in ``control_query``.
    method
        pycytominer ``normalize`` method: ``"mad_robustize"`` (subtract the control median, divide by
        the scaled control MAD), ``"robustize"`` or ``"standardize"``.
    control_query
        pandas query selecting the control (DMSO) wells; at least 2 per plate.
    plate_col
        Column naming the plate; each plate is normalised on its own.
    mad_epsilon
        Added to the MAD before dividing (pycytominer ``mad_robustize_epsilon``).
    zero_mad
        What to do with features whose control MAD is 0 on a plate where they vary (e.g. integer
        shape features): ``"raise"``, or ``"drop"`` them on every plate, listed in
        ``attrs["dropped_features"]``.

    Returns
    -------
    pandas.DataFrame
        Same rows, order, index and ``Metadata_*`` columns; normalised features under their names.
    """
    source = "normalize_plates(wells)"
    require_metadata(wells, [plate_col], source=source)
    feature_matrix(wells, source=source)
    frame = wells.reset_index(drop=True)
    controls = query_mask(frame, control_query, source=source, parameter="control_query")
    _controls_per_plate(frame, controls, plate_col=plate_col, query=control_query, source=source)
    plates = frame.groupby(plate_col, sort=False).groups
    bad = sorted({f for rows in plates.values() for f in _zero_mad(frame.loc[rows], controls[rows])})
    if bad and method == "mad_robustize":
        if zero_mad != "drop":
            raise ValueError(
                f"{source}: feature(s) {bad[:5]} ({len(bad)} in all) have zero MAD on the control wells of a plate "
                "but vary on it; mad_robustize would divide by ~0. Pass zero_mad='drop' or method='standardize'."
            )
        frame = frame.drop(columns=bad)
    parts = []
    for rows in plates.values():
        plate = frame.loc[rows]
        normalized = pycytominer.normalize(
            plate,
            features=feature_columns(frame),
            meta_features=metadata_columns(frame),
            samples=control_query,
            method=method,
            mad_robustize_epsilon=mad_epsilon,
            output_file=None,
        )
        parts.append(normalized)
    out = pd.concat(parts).sort_index()
    out.index = wells.index
    out.attrs["dropped_features"] = bad if method == "mad_robustize" else []
    return out


def select_features(
    wells: pd.DataFrame,
    *,
    operations: Sequence[str] = ("variance_threshold", "correlation_threshold", "drop_na_columns"),
    corr_threshold: float = 0.9,
    corr_method: str = "pearson",
    min_variance: float = 1e-6,
    na_cutoff: float = 0.05,
) -> pd.DataFrame:
    """Drop uninformative features with pycytominer ``feature_select`` (LINCS level 4b).

    Parameters
    ----------
    wells
        Profiles; NaN features are accepted only if ``"drop_na_columns"`` is among ``operations``.
    operations
        pycytominer operations, applied in order over all rows.
    corr_threshold, corr_method, min_variance, na_cutoff
        Options of ``correlation_threshold``, ``variance_threshold`` and ``drop_na_columns``.

    Returns
    -------
    pandas.DataFrame
        Same rows and metadata, the kept features in input order. ``attrs["dropped_features"]``
        lists the dropped ones. Raises if NaN features remain or no feature is left.
    """
    source = "select_features(wells)"
    if "drop_na_columns" not in operations:
        feature_matrix(wells, source=source)
    selected = pycytominer.feature_select(
        wells,
        features=feature_columns(wells),
        samples="all",
        operation=list(operations),
        output_file=None,
        na_cutoff=na_cutoff,
        corr_threshold=corr_threshold,
        corr_method=corr_method,
        min_variance=min_variance,
    )
    feature_matrix(selected, source=f"{source} after {list(operations)}")
    dropped = [c for c in feature_columns(wells) if c not in selected.columns]
    logger.info("select_features: kept %d of %d features", len(feature_columns(selected)), len(feature_columns(wells)))
    selected.attrs["dropped_features"] = dropped
    return selected


def _sphere_dims(n_rows: int, n_features: int, n_controls: int, n_components: int | None, *, source: str) -> int:
    """Number of dimensions to sphere: fewer than the control wells, at most ``min(N, D)``."""
    if n_components is None:
        if n_controls < 2:
            raise ValueError(f"{source}: sphering needs at least 2 control wells, control_query matches {n_controls}")
        return min(n_features, n_rows, n_controls - 1)
    if n_components < 1:
        raise ValueError(f"{source}: n_components must be >= 1, got {n_components}")
    k = min(n_components, n_features, n_rows)
    if n_controls <= k:
        raise ValueError(
            f"{source}: sphering {k} dimensions needs more control wells than dimensions (at least {k + 1}); "
            f"control_query matches {n_controls}. Lower n_components (at most {n_controls - 1}) or add controls."
        )
    return k


def sphere(
    wells: pd.DataFrame,
    *,
    control_query: str = CONTROL_QUERY,
    n_components: int | None = None,
    epsilon: float = 1e-6,
    method: str = "ZCA",
    random_state: int = 0,
) -> pd.DataFrame:
    """Whiten profiles with a transform fitted on the control wells (pycytominer ``Spherize``).

    Parameters
    ----------
    wells
        ``N`` well-level profiles, ``D`` features.
    control_query
        pandas query selecting the negative-control (DMSO) wells the transform is fitted on.
    n_components
        PCA dimensions ``K`` before sphering (PCA fitted on all wells, centred). ``None``: keep the
        ``D`` features if there are more control wells than features, else reduce to one fewer
        dimension than control wells. An explicit ``K`` needs more than ``K`` control wells.
    epsilon
        Added to the singular values of the centred controls (regularisation; tune it).
    method
        ``"ZCA"``, ``"ZCA-cor"``, ``"PCA"`` or ``"PCA-cor"``.
    random_state
        Seed of the PCA.

    Returns
    -------
    pandas.DataFrame
        Same rows, order, index and metadata. ZCA keeps the names of the space it whitens (the input
        features, or ``pca_0000 ...`` after reduction); PCA whitening names them ``sphered_0000 ...``.
        The controls have mean 0 and covariance close to the identity.
    """
    source = "sphere(wells)"
    values = feature_matrix(wells, source=source)
    frame = wells.reset_index(drop=True)
    n_controls = int(query_mask(frame, control_query, source=source, parameter="control_query").sum())
    k = _sphere_dims(len(frame), values.shape[1], n_controls, n_components, source=source)
    if k < values.shape[1]:
        scores, _ = pca_matrix(values, n_components=k, random_state=random_state)
        frame = with_features(frame, scores, names=feature_names(k, prefix=PCA_PREFIX))
    sphered = pycytominer.normalize(
        frame,
        features=feature_columns(frame),
        meta_features=metadata_columns(frame),
        samples=control_query,
        method="spherize",
        spherize_method=method,
        spherize_center=True,
        spherize_epsilon=epsilon,
        output_file=None,
    )
    if method.startswith("PCA"):
        sphered.columns = [*metadata_columns(frame), *feature_names(k, prefix=SPHERED_PREFIX)]
    sphered.index = wells.index
    return sphered


def consensus(
    wells: pd.DataFrame,
    *,
    replicate_cols: Sequence[str] = ("Metadata_broad_sample", "Metadata_mmoles_per_liter"),
    operation: str = "median",
) -> pd.DataFrame:
    """Collapse replicate wells into one consensus profile per treatment (LINCS level 5).

    Parameters
    ----------
    wells
        Well-level profiles with the ``replicate_cols``.
    replicate_cols
        Columns that identify a treatment (compound and dose).
    operation
        ``"median"``, ``"mean"`` or ``"modz"`` (pycytominer ``consensus``).

    Returns
    -------
    pandas.DataFrame
        One row per treatment: ``replicate_cols``, every other ``Metadata_*`` column constant within a
        treatment (e.g. ``Metadata_moa``), then the features.
    """
    source = "consensus(wells)"
    require_metadata(wells, replicate_cols, source=source)
    feature_matrix(wells, source=source)
    merged = pycytominer.consensus(
        wells,
        replicate_columns=list(replicate_cols),
        operation=operation,
        features=feature_columns(wells),
        output_file=None,
    )
    return restore_metadata(merged, wells, by=replicate_cols)


def sphering(
    wells: pd.DataFrame,
    *,
    batch_col: str = "Metadata_Plate",
    control_query: str = CONTROL_QUERY,
    normalize_method: str | None = "mad_robustize",
    zero_mad: str = "raise",
    feature_operations: Sequence[str] = ("variance_threshold", "correlation_threshold", "drop_na_columns"),
    corr_threshold: float = 0.9,
    min_variance: float = 1e-6,
    na_cutoff: float = 0.05,
    n_components: int | None = None,
    epsilon: float = 1e-6,
    sphere_method: str = "ZCA",
    random_state: int = 0,
) -> pd.DataFrame:
    """The Cell Painting correction on well-level profiles: normalise per plate, select features, sphere.

    Parameters
    ----------
    wells
        Well-level profiles (use :func:`sphering_from_cells` for single cells).
    batch_col
        Plate column for the per-plate normalisation.
    control_query
        pandas query selecting the DMSO wells (normalisation reference and sphering fit).
    normalize_method, zero_mad
        :func:`normalize_plates` method (``None`` skips normalisation) and its zero-MAD rule.
    feature_operations, corr_threshold, min_variance, na_cutoff
        :func:`select_features` options; an empty ``feature_operations`` skips selection.
    n_components, epsilon, sphere_method, random_state
        :func:`sphere` options (PCA dimensions, regularisation, whitening method, PCA seed).

    Returns
    -------
    pandas.DataFrame
        Same rows, order, index and metadata; sphered features (see :func:`sphere` for names).
    """
    profiles = wells
    if normalize_method is not None:
        profiles = normalize_plates(
            profiles, method=normalize_method, control_query=control_query, plate_col=batch_col, zero_mad=zero_mad
        )
    if feature_operations:
        profiles = select_features(
            profiles,
            operations=feature_operations,
            corr_threshold=corr_threshold,
            min_variance=min_variance,
            na_cutoff=na_cutoff,
        )
    return sphere(
        profiles,
        control_query=control_query,
        n_components=n_components,
        epsilon=epsilon,
        method=sphere_method,
        random_state=random_state,
    )


def sphering_from_cells(
    single_cells: pd.DataFrame,
    *,
    strata: Sequence[str] = ("Metadata_Plate", "Metadata_Well"),
    operation: str = "median",
    **chain_options: Any,
) -> pd.DataFrame:
    """:func:`aggregate_wells` then :func:`sphering`; ``chain_options`` are the keyword options of :func:`sphering`.

    Returns one sphered profile per well (rows sorted by ``strata``).
    """
    return sphering(aggregate_wells(single_cells, strata=strata, operation=operation), **chain_options)
