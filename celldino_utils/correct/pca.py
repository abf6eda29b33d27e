"""Principal component analysis of a profile table (the first step of Harmony and of sphering)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from celldino_utils.io.profiles import PCA_PREFIX, feature_matrix, feature_names, with_features


def pca_matrix(values: np.ndarray, *, n_components: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Project an ``(N, D)`` matrix on its first principal components (centred, not scaled).

    ``n_components`` is clipped to ``min(N, D)``. Returns the ``(N, K)`` scores and the ``(K,)``
    explained variance ratios.
    """
    if n_components < 1:
        raise ValueError(f"n_components must be >= 1, got {n_components}")
    k = int(min(n_components, *values.shape))
    model = PCA(n_components=k, svd_solver="full", random_state=random_state)
    scores = model.fit_transform(values)
    return scores, model.explained_variance_ratio_


def pca(profiles: pd.DataFrame, *, n_components: int = 50, random_state: int = 0) -> pd.DataFrame:
    """Replace the features of ``profiles`` by their first principal components.

    Parameters
    ----------
    profiles
        ``Metadata_*`` columns and ``D`` numeric feature columns, ``N`` rows.
    n_components
        Number of components ``K``; clipped to ``min(N, D)``.
    random_state
        Seed passed to scikit-learn (the full SVD is deterministic; kept for reproducibility).

    Returns
    -------
    pandas.DataFrame
        The same rows, index and ``Metadata_*`` columns, features ``pca_0000 ... pca_{K-1}``
        (centred on the mean profile, not scaled). ``attrs["explained_variance_ratio"]`` lists
        the ratio of each component.
    """
    values = feature_matrix(profiles, source="pca(profiles)")
    scores, ratios = pca_matrix(values, n_components=n_components, random_state=random_state)
    out = with_features(profiles, scores, names=feature_names(scores.shape[1], prefix=PCA_PREFIX))
    out.attrs["explained_variance_ratio"] = [float(r) for r in ratios]
    return out
