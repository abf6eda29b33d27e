"""Cell Painting profile processing, the LINCS levels of Way et al. 2022 (supplement Table D, Figure C).

Single cells are aggregated to wells (level 3), normalised per plate against the DMSO wells with
``mad_robustize`` (level 4a), feature selected (level 4b), and replicates collapsed by ``consensus``
(level 5). pycytominer (>= 1.7.1) does the work, always with explicit ``features=`` / ``meta_features=``
since embedding columns are not CellProfiler names. Sphering, fitted on the same controls, is in
:mod:`celldino_utils.correct.sphering`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pycytominer
from scipy.stats import median_abs_deviation

from celldino_utils.io.profiles import (
    CONTROL_QUERY,
    feature_columns,
    feature_matrix,
    metadata_columns,
    query_mask,
    require_metadata,
    restore_metadata,
)

logger = logging.getLogger(__name__)


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
    control_query: str | None = CONTROL_QUERY,
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
        pandas query selecting the wells each plate is normalised against (the DMSO wells); at least 2 per plate.
        None: every well of the plate (LINCS "normalized by whole plate").
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
    if control_query is None:
        controls = np.ones(len(frame), dtype=bool)
    else:
        controls = query_mask(frame, control_query, source=source, parameter="control_query")
    _controls_per_plate(frame, controls, plate_col=plate_col, query=str(control_query), source=source)
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
            samples="all" if control_query is None else control_query,
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
