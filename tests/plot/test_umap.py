"""Seeded, cached UMAP embeddings. Every UMAP test lives here, so numba compiles once (~15-40 s)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import umap

from celldino_utils.io.profiles import metadata_columns, to_profiles
from celldino_utils.plot.umap import UMAP_COLUMNS, umap_embedding


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    """200 profiles in 4 well separated groups, with a shuffled non-default index."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(4), 50)
    values = rng.normal(size=(4, 12))[groups] * 3 + rng.normal(size=(200, 12))
    table = to_profiles(pd.DataFrame({"group": groups.astype(str), "row": np.arange(200)}), values)
    return table.set_axis(rng.permutation(200) + 1000)


def test_shape_columns_order_and_index(profiles: pd.DataFrame) -> None:
    coords = umap_embedding(profiles, seed=0)
    assert list(coords.columns) == [*metadata_columns(profiles), *UMAP_COLUMNS]
    assert coords.index.equals(profiles.index)
    pd.testing.assert_frame_equal(coords[metadata_columns(profiles)], profiles[metadata_columns(profiles)])
    assert np.isfinite(coords[list(UMAP_COLUMNS)].to_numpy()).all()


def test_same_seed_repeats_and_other_seed_differs(profiles: pd.DataFrame) -> None:
    first = umap_embedding(profiles, seed=3)
    again = umap_embedding(profiles, seed=3)
    other = umap_embedding(profiles, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first[list(UMAP_COLUMNS)], other[list(UMAP_COLUMNS)])


def test_second_call_reads_the_cache(profiles: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = umap_embedding(profiles, seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("umap_*.parquet"))) == 1

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("UMAP was fitted although the embedding is cached")

    monkeypatch.setattr(umap, "UMAP", refuse)
    second = umap_embedding(profiles, seed=0, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first, second)
    renamed = profiles.rename(columns={"Metadata_group": "Metadata_label"})  # metadata is not part of the key
    assert list(umap_embedding(renamed, seed=0, cache_dir=tmp_path).columns)[0] == "Metadata_label"
    with pytest.raises(AssertionError, match="fitted"):
        umap_embedding(profiles, seed=0, n_neighbors=10, cache_dir=tmp_path)


def test_changed_features_miss_the_cache(profiles: pd.DataFrame, tmp_path: Path) -> None:
    umap_embedding(profiles, seed=0, cache_dir=tmp_path)
    shifted = profiles.copy()
    shifted["emb_0000"] += 1e-9
    umap_embedding(shifted, seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("umap_*.parquet"))) == 2


def test_corrupt_cache_file_is_named(profiles: pd.DataFrame, tmp_path: Path) -> None:
    umap_embedding(profiles, seed=0, cache_dir=tmp_path)
    (path,) = tmp_path.glob("umap_*.parquet")
    pd.DataFrame({"UMAP_1": [0.0], "UMAP_2": [0.0]}).to_parquet(path)
    with pytest.raises(ValueError, match=path.name):
        umap_embedding(profiles, seed=0, cache_dir=tmp_path)


def test_bad_input_raises(profiles: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="n_neighbors"):
        umap_embedding(profiles.iloc[:10], n_neighbors=15)
    with pytest.raises(ValueError, match="n_neighbors"):
        umap_embedding(profiles, n_neighbors=1)
    broken = profiles.copy()
    broken.loc[broken.index[0], "emb_0003"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        umap_embedding(broken)
