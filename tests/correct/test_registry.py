"""Choosing a correction method by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from celldino_utils.correct import CORRECTION_METHODS, correct, harmony, none
from celldino_utils.io.profiles import to_profiles


def _profiles() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    meta = pd.DataFrame({"cell_line": ["a", "b"] * 30, "Target": ["0", "1", "2"] * 20})
    return to_profiles(meta, rng.normal(size=(60, 8)) + np.repeat([[0.0], [1.0]], 30, axis=0))


def test_none_returns_an_unchanged_copy() -> None:
    profiles = _profiles()
    out = correct(profiles, method="none", batch_col="Metadata_cell_line")
    pd.testing.assert_frame_equal(out, profiles)
    assert out is not profiles
    assert none(profiles) is not profiles


def test_dispatch_equals_the_direct_call() -> None:
    profiles = _profiles()
    by_name = correct(profiles, method="harmony", batch_col="Metadata_cell_line", n_components=5)
    direct = harmony(profiles, batch_col="Metadata_cell_line", n_components=5)
    pd.testing.assert_frame_equal(by_name, direct)
    assert set(CORRECTION_METHODS) == {"none", "harmony", "sphering"}


def test_unknown_method_and_option_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown correction method 'combat'.*\['harmony', 'none', 'sphering'\]"):
        correct(_profiles(), method="combat")
    with pytest.raises(ValueError, match=r"'harmony' has no option\(s\) \['n_pcs'\]"):
        correct(_profiles(), method="harmony", n_pcs=5)


def test_none_checks_the_batch_column_and_features() -> None:
    profiles = _profiles()
    with pytest.raises(ValueError, match=r"Metadata_batch.*available Metadata_ columns"):
        none(profiles, batch_col="Metadata_batch")
    profiles.loc[4, "emb_0001"] = np.inf
    with pytest.raises(ValueError, match=r"1 row\(s\) hold NaN or infinite.*emb_0001"):
        none(profiles)
