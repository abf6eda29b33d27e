"""Harmony (Korsunsky et al. 2019) on PCA scores: the HPA cell-line correction of supplement Figure C.

harmonypy 2.1 changed defaults against 0.0.x and returns ``Z_corr`` as cells x dims, so every
parameter is passed explicitly and the matrix is handed over as dims x cells, the one layout it
never has to guess (a square input would otherwise be ambiguous).
"""

from __future__ import annotations

import harmonypy
import pandas as pd

from celldino_utils.correct.pca import pca_matrix
from celldino_utils.io.profiles import (
    HARMONY_PREFIX,
    feature_matrix,
    feature_names,
    require_groups,
    require_metadata,
    with_features,
)


def _default_nclust(n_samples: int) -> int:
    """harmonypy's own rule, ``min(N / 30, 100)``, made explicit and kept between 1 and ``N``."""
    return int(min(max(round(n_samples / 30.0), 1), 100, n_samples))


def harmony(
    profiles: pd.DataFrame,
    *,
    batch_col: str = "Metadata_cell_line",
    n_components: int = 50,
    theta: float = 2.0,
    sigma: float = 0.1,
    lamb: float | None = 1.0,
    nclust: int | None = None,
    tau: float = 0.0,
    block_size: float = 0.05,
    max_iter_harmony: int = 10,
    max_iter_kmeans: int = 20,
    epsilon_cluster: float = 1e-5,
    epsilon_harmony: float = 1e-4,
    alpha: float = 0.2,
    batch_prop_cutoff: float = 1e-5,
    random_state: int = 0,
    ncores: int = 0,
) -> pd.DataFrame:
    """Remove the variation of ``batch_col`` with PCA then Harmony.

    Parameters
    ----------
    profiles
        ``N`` rows: ``Metadata_*`` columns (including ``batch_col``) and ``D`` numeric features.
    batch_col
        Column whose levels are integrated (the cell line for HPA, supplement Figure C).
    n_components
        PCA components ``K`` computed first (centred, not scaled); clipped to ``min(N, D)``.
    theta, sigma, lamb, tau, block_size, alpha, batch_prop_cutoff
        Harmony's diversity penalty, soft-clustering bandwidth, ridge penalty (``None`` estimates it
        per cluster from ``alpha``), over-correction guard, update block fraction and minimum batch
        proportion in a cluster; see ``harmonypy.run_harmony``.
    nclust
        Number of clusters; ``None`` uses ``min(round(N / 30), 100)``, at least 1.
    max_iter_harmony, max_iter_kmeans, epsilon_cluster, epsilon_harmony
        Iteration limits and convergence thresholds (the harmonypy 0.0.x defaults).
    random_state
        Seed of Harmony's k-means initialisation.
    ncores
        Threads for harmonypy (0: one per physical core); the result does not depend on it.

    Returns
    -------
    pandas.DataFrame
        Same rows, order, index and ``Metadata_*`` columns; features ``harmony_0000 ...
        harmony_{K-1}`` (corrected PCA scores, shape ``(N, K)``).

    Notes
    -----
    Harmony corrects within soft clusters that hold several batches. When the batches are far
    apart, ``sigma=0.1`` gives batch-pure clusters and the output equals the PCA scores; on such
    synthetic data a larger ``sigma`` (0.5-1) or ``nclust=1`` did mix them. Check the batch
    silhouette before and after (:func:`celldino_utils.evaluate.silhouette`).
    """
    source = "harmony(profiles)"
    require_metadata(profiles, [batch_col], source=source)
    require_groups(profiles[batch_col], minimum=2, source=source)
    values = feature_matrix(profiles, source=source)
    scores, _ = pca_matrix(values, n_components=n_components, random_state=random_state)
    batches = pd.DataFrame({"batch": profiles[batch_col].astype(str).to_numpy()})
    result = harmonypy.run_harmony(
        scores.T,
        batches,
        ["batch"],
        theta=theta,
        lamb=lamb,
        sigma=sigma,
        nclust=_default_nclust(len(profiles)) if nclust is None else nclust,
        tau=tau,
        block_size=block_size,
        max_iter_harmony=max_iter_harmony,
        max_iter_kmeans=max_iter_kmeans,
        epsilon_cluster=epsilon_cluster,
        epsilon_harmony=epsilon_harmony,
        alpha=alpha,
        batch_prop_cutoff=batch_prop_cutoff,
        verbose=False,
        random_state=random_state,
        ncores=ncores,
    )
    corrected = result.Z_corr
    if corrected.shape != scores.shape:
        raise RuntimeError(
            f"harmonypy returned Z_corr of shape {corrected.shape}, expected {scores.shape} (cells x dims)"
        )
    return with_features(profiles, corrected, names=feature_names(scores.shape[1], prefix=HARMONY_PREFIX))
