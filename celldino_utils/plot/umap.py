"""Seeded, disk-cached UMAP embeddings of profile tables (supplement Figures A-C).

The first UMAP in a process spends tens of seconds compiling numba code, so every
embedding is written once to a cache folder, keyed by a hash of the feature matrix and the UMAP
parameters, and read back by every later notebook that asks for the same embedding.
"""

from __future__ import annotations

import json
import os
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from celldino_utils.io.profiles import UMAP_PREFIX, feature_matrix, with_features
from celldino_utils.io.stamps import sha256_hex

UMAP_COLUMNS: tuple[str, str] = (f"{UMAP_PREFIX}1", f"{UMAP_PREFIX}2")


def _cache_key(values: np.ndarray, params: dict[str, object]) -> str:
    """SHA-256 of the ``(N, D)`` float64 matrix (bytes and shape) and the JSON of the parameters."""
    header = json.dumps({"shape": list(values.shape), **params}, sort_keys=True).encode()
    return sha256_hex(header, np.ascontiguousarray(values).tobytes())


def _read_cached(path: Path, n_rows: int) -> np.ndarray:
    """The ``(N, 2)`` coordinates stored in a cache file, after checking columns and row count."""
    table = pd.read_parquet(path)
    if list(table.columns) != list(UMAP_COLUMNS) or len(table) != n_rows:
        raise ValueError(
            f"UMAP cache file {path} holds columns {list(table.columns)} and {len(table)} rows, "
            f"expected {list(UMAP_COLUMNS)} and {n_rows}; delete it to recompute"
        )
    return table.to_numpy(dtype=np.float64)


def _write_cached(path: Path, coords: np.ndarray) -> None:
    """Write coordinates to ``path`` through a temporary file, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    pd.DataFrame(coords, columns=list(UMAP_COLUMNS)).to_parquet(partial, index=False)
    partial.replace(path)


def _fit_umap(values: np.ndarray, params: dict[str, object]) -> np.ndarray:
    """Run umap-learn on an ``(N, D)`` matrix; returns ``(N, 2)`` float64 coordinates."""
    import umap  # imported here: it loads numba, which takes seconds and is needed only on a cache miss

    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=params["n_neighbors"],
        min_dist=params["min_dist"],
        metric=params["metric"],
        random_state=params["seed"],
    )
    with warnings.catch_warnings():
        # A seed forces single-threaded UMAP, which we accept for repeatability.
        warnings.filterwarnings("ignore", message="n_jobs value .* overridden", category=UserWarning)
        coords = reducer.fit_transform(values)
    return np.asarray(coords, dtype=np.float64)


def umap_embedding(
    profiles: pd.DataFrame,
    *,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "cosine",
    seed: int = 0,
    cache_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Two-dimensional UMAP of the feature columns of a profile table, seeded and cached on disk.

    Parameters
    ----------
    profiles
        ``N`` profiles (``Metadata_*`` then ``D`` numeric features); ``N`` must exceed ``n_neighbors``.
    n_neighbors, min_dist, metric
        umap-learn options (neighbourhood size, packing of the embedded points, input distance).
    seed
        umap-learn ``random_state``: the same inputs and seed give the same coordinates (umap then
        runs on one thread).
    cache_dir
        Folder of cached embeddings. With a folder, the coordinates are stored as
        ``umap_<hash>.parquet``, the hash covering the feature values, their shape, the parameters
        above and the umap-learn version, and a later call with the same inputs reads them back
        instead of recomputing. ``None`` computes every time.

    Returns
    -------
    pandas.DataFrame
        The ``Metadata_*`` columns of ``profiles`` (same rows, order and index) followed by
        ``UMAP_1`` and ``UMAP_2``.

    Notes
    -----
    Supplement Figures A-C show UMAPs of Cell-DINO embeddings (McInnes et al. 2018, arXiv:1802.03426).
    """
    source = "umap_embedding(profiles)"
    values = feature_matrix(profiles, source=source)
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int) or n_neighbors < 2:
        raise ValueError(f"{source}: n_neighbors must be an integer >= 2, got {n_neighbors!r}")
    if len(values) <= n_neighbors:
        raise ValueError(
            f"{source}: {len(values)} profiles but n_neighbors={n_neighbors}; pass n_neighbors < {len(values)}"
        )
    if not 0.0 <= min_dist:
        raise ValueError(f"{source}: min_dist must be >= 0, got {min_dist!r}")
    params = {"n_neighbors": n_neighbors, "min_dist": float(min_dist), "metric": metric, "seed": int(seed)}
    if cache_dir is None:
        return with_features(profiles, _fit_umap(values, params), names=UMAP_COLUMNS)
    key = _cache_key(values, {**params, "umap_learn": version("umap-learn")})
    path = Path(cache_dir) / f"umap_{key[:24]}.parquet"
    if path.exists():
        coords = _read_cached(path, len(values))
    else:
        coords = _fit_umap(values, params)
        _write_cached(path, coords)
    return with_features(profiles, coords, names=UMAP_COLUMNS)
