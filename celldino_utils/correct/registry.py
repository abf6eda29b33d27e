"""Choose a batch-correction method by name: ``correct(profiles, method="harmony", ...)``.

Every method takes a profile table and keyword-only options, starting with ``batch_col``, and
returns a new table with the same rows and metadata. Notebooks and configs pick one by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import pandas as pd

from celldino_utils.correct.harmony import harmony
from celldino_utils.correct.sphering import sphering
from celldino_utils.io.profiles import feature_matrix, require_metadata


def none(profiles: pd.DataFrame, *, batch_col: str | None = None) -> pd.DataFrame:
    """No correction: check the table (and ``batch_col`` if given) and return a copy.

    Parameters
    ----------
    profiles
        ``Metadata_*`` columns and numeric, finite features.
    batch_col
        Optional batch column that must exist, so that "none" fails on the same inputs as the others.

    Returns
    -------
    pandas.DataFrame
        A copy of ``profiles``, unchanged.
    """
    if batch_col is not None:
        require_metadata(profiles, [batch_col], source="none(profiles)")
    feature_matrix(profiles, source="none(profiles)")
    return profiles.copy()


CORRECTION_METHODS: Mapping[str, Callable[..., pd.DataFrame]] = MappingProxyType(
    {"none": none, "harmony": harmony, "sphering": sphering}
)


def correct(profiles: pd.DataFrame, *, method: str, **params: Any) -> pd.DataFrame:
    """Run the batch-correction method called ``method`` with keyword options ``params``.

    Parameters
    ----------
    profiles
        Profile table (``Metadata_*`` then features).
    method
        One of :data:`CORRECTION_METHODS`: ``"none"``, ``"harmony"`` (cells or images, e.g. HPA cell
        lines) or ``"sphering"`` (Cell Painting wells, DMSO controls).
    **params
        Keyword options of that method (e.g. ``batch_col``, ``n_components``).

    Returns
    -------
    pandas.DataFrame
        The corrected table.
    """
    if method not in CORRECTION_METHODS:
        raise ValueError(f"unknown correction method {method!r}; choose one of {sorted(CORRECTION_METHODS)}")
    function = CORRECTION_METHODS[method]
    accepted = [name for name, p in inspect.signature(function).parameters.items() if p.kind is p.KEYWORD_ONLY]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"correction method {method!r} has no option(s) {unknown}; its options are {accepted}")
    return function(profiles, **params)
