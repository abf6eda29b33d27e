"""Sphering on negative controls (supplement Figure C, right; Arevalo et al. 2024).

Well profiles are normalised and feature selected (:mod:`celldino_utils.correct.profiling`), reduced with
PCA to at most half as many dimensions as there are DMSO wells, and sphered (ZCA whitening fitted on the DMSO
wells). With one control per dimension the smallest eigenvalues of their covariance are sampling noise that
whitening blows up: on the default data, sphering 95 dimensions on 96 DMSO wells halved the CellProfiler-style
features' Table D score against 48 dimensions. Paper-scale screens have many more controls than features and
keep every feature.
pycytominer (>= 1.7.1, the first release whose sphering is right) does the whitening.

Two entry points: :func:`sphering` takes well-level profiles (the registered method),
:func:`sphering_from_cells` takes single cells and aggregates them first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pycytominer

from celldino_utils.correct.pca import pca_matrix
from celldino_utils.correct.profiling import aggregate_wells, normalize_plates, select_features
from celldino_utils.io.profiles import (
    CONTROL_QUERY,
    PCA_PREFIX,
    SPHERED_PREFIX,
    feature_columns,
    feature_matrix,
    feature_names,
    metadata_columns,
    query_mask,
    with_features,
)

#: Control wells per sphered dimension when the number of dimensions is not given.
CONTROLS_PER_DIMENSION = 2


def _sphere_dims(n_rows: int, n_features: int, n_controls: int, n_components: int | None, *, source: str) -> int:
    """Number of dimensions to sphere: by default at most half the control wells (two per dimension), and
    ``min(N, D)``; an explicit ``n_components`` needs more control wells than dimensions."""
    if n_components is None:
        if n_controls < 2:
            raise ValueError(f"{source}: sphering needs at least 2 control wells, control_query matches {n_controls}")
        return min(n_features, n_rows, n_controls // CONTROLS_PER_DIMENSION)
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
        ``D`` features if there are at least twice as many control wells, else reduce to half the number
        of control wells (:data:`CONTROLS_PER_DIMENSION`). An explicit ``K`` needs more than ``K`` control wells.
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


def sphering(
    wells: pd.DataFrame,
    *,
    batch_col: str = "Metadata_Plate",
    control_query: str = CONTROL_QUERY,
    normalize_method: str | None = "mad_robustize",
    normalize_query: str | None = None,
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
        pandas query selecting the DMSO wells the sphering is fitted on.
    normalize_method, zero_mad
        :func:`normalize_plates` method (``None`` skips normalisation) and its zero-MAD rule.
    normalize_query
        The wells each plate is normalised against: None for every well of the plate, as the published LINCS
        profiles are (``normalized_by_whole_plate``, then sphered on DMSO), or a query such as ``control_query``.
        With a few dozen DMSO wells per plate, their MAD is a noisy scale that differs from plate to plate and
        that the sphering then amplifies: on the default data, normalising against DMSO raised the plate
        nearest-neighbour F1 of Cell-DINO's wells from 0.54 to 0.86 after sphering, and the whole plate lowered it.
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
            profiles, method=normalize_method, control_query=normalize_query, plate_col=batch_col, zero_mad=zero_mad
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
