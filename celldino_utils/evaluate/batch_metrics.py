"""Batch-correction metrics in the style of Arevalo et al. 2024 (Nat Commun 15:6516).

Label and batch silhouettes, k-nearest-neighbour macro F1 (optionally with neighbours taken only
from other batches), and mean average precision with copairs: compound replicates against DMSO
wells, and compounds sharing a mechanism of action against other mechanisms. Every function takes
a profile table (``Metadata_*`` then features) and never drops rows silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from copairs.map import average_precision, mean_average_precision
from sklearn.metrics import f1_score, pairwise_distances_chunked, silhouette_score
from sklearn.preprocessing import MultiLabelBinarizer

from celldino_utils.evaluate.moa import describe_moa_task, moa_task_wells
from celldino_utils.io.classes import label_sets
from celldino_utils.io.profiles import (
    CONTROL_QUERY,
    feature_columns,
    feature_matrix,
    query_mask,
    require_groups,
    require_metadata,
)


def silhouette(
    profiles: pd.DataFrame,
    *,
    label_col: str,
    metric: str = "cosine",
    sample_size: int | None = None,
    random_state: int = 0,
) -> float:
    """Mean silhouette width of the groups of ``label_col`` (scikit-learn ``silhouette_score``).

    High for a biological label means it is well separated; for a batch label, lower is better.
    Multilabel strings (``"0 25"``) count as one group each.

    Parameters
    ----------
    profiles
        ``N`` profiles with ``label_col``.
    label_col
        Column of group labels; needs between 2 and ``N - 1`` distinct values.
    metric
        Distance (``"cosine"`` as in Arevalo et al. 2024).
    sample_size, random_state
        Optional random subset of rows (for large ``N``) and its seed.

    Returns
    -------
    float
        Silhouette in ``[-1, 1]``.
    """
    source = "silhouette(profiles)"
    require_metadata(profiles, [label_col], source=source)
    values = feature_matrix(profiles, source=source)
    labels = profiles[label_col].astype(str).to_numpy()
    require_groups(profiles[label_col], minimum=2, source=source)
    if len(np.unique(labels)) >= len(labels):
        raise ValueError(f"{source}: every row has its own {label_col!r}; a silhouette needs repeated labels")
    score = silhouette_score(values, labels, metric=metric, sample_size=sample_size, random_state=random_state)
    return float(score)


def _nearest(values: np.ndarray, groups: np.ndarray | None, *, k: int, metric: str) -> np.ndarray:
    """Indices, shape ``(N, k)``, of each row's ``k`` nearest other rows (from other groups if given)."""

    def reduce(chunk: np.ndarray, start: int) -> np.ndarray:
        rows = np.arange(start, start + len(chunk))
        chunk = chunk.copy()
        chunk[np.arange(len(chunk)), rows] = np.inf
        if groups is not None:
            chunk[groups[rows][:, None] == groups[None, :]] = np.inf
        part = np.argpartition(chunk, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(chunk, part, axis=1), axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1)

    return np.vstack(list(pairwise_distances_chunked(values, metric=metric, reduce_func=reduce)))


def _check_candidates(profiles: pd.DataFrame, group_col: str | None, *, k: int, source: str) -> None:
    if k < 1:
        raise ValueError(f"{source}: k must be >= 1, got {k}")
    if group_col is None:
        if len(profiles) <= k:
            raise ValueError(f"{source}: {len(profiles)} profiles leave fewer than k={k} neighbours")
        return
    require_metadata(profiles, [group_col], source=source)
    sizes = profiles[group_col].value_counts()
    require_groups(profiles[group_col], minimum=2, source=source)
    if len(profiles) - sizes.max() < k:
        raise ValueError(
            f"{source}: group {sizes.idxmax()!r} of {group_col!r} has {sizes.max()} of {len(profiles)} rows, "
            f"leaving fewer than k={k} neighbours in other groups"
        )


def _vote(neighbour_labels: np.ndarray) -> np.ndarray:
    """Majority label of each row of an ``(N, k)`` array; ties go to the nearest neighbour."""
    winners = []
    for row in neighbour_labels:
        counts = Counter(row.tolist())
        best = max(counts.values())
        winners.append(next(label for label in row.tolist() if counts[label] == best))
    return np.asarray(winners, dtype=object)


def knn_score(
    profiles: pd.DataFrame,
    *,
    label_col: str,
    group_col: str | None = None,
    k: int = 1,
    metric: str = "cosine",
    average: str = "macro",
    multilabel: bool = False,
    label_sep: str = " ",
) -> float:
    """F1 of predicting ``label_col`` from the nearest other profiles (leave-one-out kNN).

    Parameters
    ----------
    profiles
        ``N`` profiles with ``label_col`` (and ``group_col``).
    label_col
        Label to predict (e.g. ``Metadata_Target``, ``Metadata_cell_line``, ``Metadata_moa``).
    group_col
        If given, neighbours must come from another group (leave-one-group-out: another plate or
        batch), so that batch-driven matches do not count.
    k
        Number of neighbours. Single label: majority vote, ties to the nearest.
    metric
        Distance (``"cosine"``).
    average
        scikit-learn ``f1_score`` average (``"macro"``: unweighted mean over classes).
    multilabel, label_sep
        If true, labels are ``label_sep``-separated class sets (HPA ``"0 25"``); the prediction is the
        set of classes held by more than half of the ``k`` neighbours (for ``k=1`` the nearest
        neighbour's set) and F1 is computed on the binary class indicators.

    Returns
    -------
    float
        F1 score in ``[0, 1]``.
    """
    source = "knn_score(profiles)"
    require_metadata(profiles, [label_col], source=source)
    _check_candidates(profiles, group_col, k=k, source=source)
    values = feature_matrix(profiles, source=source)
    groups = None if group_col is None else profiles[group_col].astype(str).to_numpy()
    neighbours = _nearest(values, groups, k=k, metric=metric)
    labels = profiles[label_col].astype(str).to_numpy()
    if not multilabel:
        predicted = _vote(labels[neighbours])
        return float(f1_score(labels, predicted.astype(str), average=average, zero_division=0))
    sets = label_sets(labels, sep=label_sep)
    binarizer = MultiLabelBinarizer(classes=sorted(set().union(*sets)))
    truth = binarizer.fit_transform(sets)
    predicted = (truth[neighbours].mean(axis=1) > 0.5).astype(int)
    return float(f1_score(truth, predicted, average=average, zero_division=0))


def _map_table(
    keys: pd.DataFrame,
    values: np.ndarray,
    *,
    pos_diffby: list[str],
    neg_sameby: list[str],
    neg_diffby: list[str],
    options: Mapping[str, Any],
) -> pd.DataFrame:
    """copairs AP per row then mAP per ``keys["group"]`` (rows with a negative group are only negatives)."""
    ap = average_precision(
        keys,
        values,
        pos_sameby=["group"],
        pos_diffby=pos_diffby,
        neg_sameby=neg_sameby,
        neg_diffby=neg_diffby,
        distance=options["distance"],
        progress_bar=False,
    )
    ap = ap[ap["group"] >= 0]
    scores = mean_average_precision(
        ap,
        sameby=["group"],
        null_size=options["null_size"],
        threshold=options["threshold"],
        seed=options["seed"],
        progress_bar=False,
    )
    return scores.drop(columns=["indices"], errors="ignore")


def _need_two(table: pd.DataFrame, *, by: list[str], spread: str, what: str, source: str) -> None:
    """Raise if a group of ``by`` has fewer than 2 distinct ``spread`` values (so no positive pair)."""
    counts = table.groupby(by, sort=True)[spread].nunique()
    few = counts[counts < 2]
    if len(few):
        raise ValueError(
            f"{source}: {len(few)} {what} have fewer than 2 distinct {spread!r} values, so no positive pair: "
            f"{list(few.index)[:5]}; remove them first"
        )


def replicate_map(
    profiles: pd.DataFrame,
    *,
    compound_col: str = "Metadata_broad_sample",
    dose_col: str = "Metadata_mmoles_per_liter",
    plate_col: str = "Metadata_Plate",
    control_query: str = CONTROL_QUERY,
    null_size: int = 10000,
    threshold: float = 0.05,
    seed: int = 0,
    distance: str = "cosine",
) -> pd.DataFrame:
    """Replicate retrieval: mAP of each compound and dose against the control wells (copairs).

    For every treated well, the positives are the wells of the same compound and dose on other
    plates, the negatives are the control wells; average precision is averaged per compound and dose
    and tested against a null of random rankings.

    Parameters
    ----------
    profiles
        Well-level profiles with ``compound_col``, ``dose_col``, ``plate_col`` and controls.
    control_query
        pandas query selecting the negative-control (DMSO) wells.
    null_size, threshold, seed
        copairs ``mean_average_precision`` options (null samples, FDR level, seed).
    distance
        copairs distance.

    Returns
    -------
    pandas.DataFrame
        One row per compound and dose: ``compound_col``, ``dose_col``, ``mean_average_precision``,
        ``mean_normalized_average_precision``, ``p_value``, ``corrected_p_value``, ``below_p``,
        ``below_corrected_p``. Raises if a compound and dose has replicates on fewer than 2 plates.
    """
    source = "replicate_map(profiles)"
    require_metadata(profiles, [plate_col], source=source)
    values = feature_matrix(profiles, source=source)
    controls = query_mask(profiles, control_query, source=source, parameter="control_query")
    treated = profiles.loc[~controls]
    if treated.empty:
        raise ValueError(f"{source}: every row matches control_query={control_query!r}; no treated wells")
    require_metadata(treated, [compound_col, dose_col], source=f"{source} (treated wells)")
    _need_two(treated, by=[compound_col, dose_col], spread=plate_col, what="compound/dose group(s)", source=source)
    group = -1 - np.arange(len(profiles))  # each control its own negative group: never a positive
    group[~controls] = treated.groupby([compound_col, dose_col], sort=True).ngroup().to_numpy()
    keys = pd.DataFrame({"group": group, "plate": profiles[plate_col].to_numpy(), "control": controls})
    options = {"null_size": null_size, "threshold": threshold, "seed": seed, "distance": distance}
    scores = _map_table(keys, values, pos_diffby=["plate"], neg_sameby=[], neg_diffby=["control"], options=options)
    names = treated.groupby([compound_col, dose_col], sort=True).size().reset_index()[[compound_col, dose_col]]
    return names.join(scores.set_index("group"), how="inner").reset_index(drop=True)


def moa_map(
    profiles: pd.DataFrame,
    *,
    moa_col: str = "Metadata_moa",
    compound_col: str = "Metadata_broad_sample",
    control_query: str | None = None,
    null_size: int = 10000,
    threshold: float = 0.05,
    seed: int = 0,
    distance: str = "cosine",
) -> pd.DataFrame:
    """Mechanism retrieval: mAP of each MoA, positives from other compounds with the same MoA (copairs).

    Parameters
    ----------
    profiles
        Consensus profiles (one per compound, or compound and dose) with ``moa_col`` and ``compound_col``.
        A multi-MoA string (``"a|b"``) counts as one label.
    control_query
        Optional pandas query for rows to leave out (e.g. DMSO consensus); ``None`` keeps every row.
    null_size, threshold, seed, distance
        copairs options, as in :func:`replicate_map`.

    Returns
    -------
    pandas.DataFrame
        One row per MoA: ``moa_col``, ``mean_average_precision``, ``mean_normalized_average_precision``,
        ``p_value``, ``corrected_p_value``, ``below_p``, ``below_corrected_p``. Raises if a MoA has
        fewer than 2 compounds.
    """
    source = "moa_map(profiles)"
    if control_query is not None:
        profiles = profiles.loc[~query_mask(profiles, control_query, source=source, parameter="control_query")]
    require_metadata(profiles, [moa_col, compound_col], source=source)
    values = feature_matrix(profiles, source=source)
    _need_two(profiles, by=[moa_col], spread=compound_col, what="MoA(s)", source=source)
    group = profiles.groupby(moa_col, sort=True).ngroup().to_numpy()
    keys = pd.DataFrame({"group": group, "compound": profiles[compound_col].astype(str).to_numpy()})
    options = {"null_size": null_size, "threshold": threshold, "seed": seed, "distance": distance}
    scores = _map_table(keys, values, pos_diffby=["compound"], neg_sameby=[], neg_diffby=["group"], options=options)
    names = profiles.groupby(moa_col, sort=True).size().reset_index()[[moa_col]]
    return names.join(scores.set_index("group"), how="inner").reset_index(drop=True)


def _single_compound_moas(
    wells: pd.DataFrame,
    *,
    control_query: str,
    moa_col: str = "Metadata_moa",
    compound_col: str = "Metadata_broad_sample",
) -> np.ndarray:
    """Whether each well is a treated well of an MoA that only one compound has, ``(N,)``."""
    treated = ~query_mask(wells, control_query, source="retrieval_table", parameter="control_query")
    compounds = wells.loc[treated].groupby(moa_col)[compound_col].nunique()
    return treated & wells[moa_col].isin(compounds.index[compounds < 2]).to_numpy()


def retrieval_table(
    wells_by_features: Mapping[str, pd.DataFrame],
    *,
    control_query: str = CONTROL_QUERY,
    multi_moa: str = "expand",
    seed: int = 0,
) -> pd.DataFrame:
    """Replicate and mechanism retrieval of each feature set's well profiles, side by side.

    The mechanism retrieval uses the wells :func:`celldino_utils.evaluate.moa.moa_task_wells` keeps (treated
    wells without an MoA left out; with ``multi_moa="expand"`` a compound's set of MoAs is one group here),
    less the treated wells of MoAs held by a single compound, which have no positive pair (counted in the note).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``features``: ``replicate_map`` (:func:`replicate_map` against the controls),
        ``mechanism_map`` (:func:`moa_map` over the treated wells), each the mean over its groups, and
        ``moa_note`` (:func:`~celldino_utils.evaluate.moa.describe_moa_task`).
    """
    rows = {}
    for name, wells in wells_by_features.items():
        replicate = replicate_map(wells, control_query=control_query, seed=seed)
        task, counts = moa_task_wells(wells, multi_moa=multi_moa, control_query=control_query)
        alone = _single_compound_moas(task, control_query=control_query)
        mechanism = moa_map(task.loc[~alone], control_query=control_query, seed=seed)
        note = describe_moa_task(counts)
        if alone.any():
            note += f"{'; ' if note else ''}{int(alone.sum())} well(s) of MoAs with one compound (no positive pair)"
        rows[name] = {
            "replicate_map": float(replicate["mean_average_precision"].mean()),
            "mechanism_map": float(mechanism["mean_average_precision"].mean()),
            "moa_note": note,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("features")


def _replicate_summary(profiles: pd.DataFrame, options: Mapping[str, Any]) -> dict[str, float]:
    """Mean replicate mAP and fraction retrieved, or ``{}`` if the table lacks the needed columns."""
    needed = [
        options.get("compound_col", "Metadata_broad_sample"),
        options.get("dose_col", "Metadata_mmoles_per_liter"),
        options.get("plate_col", "Metadata_Plate"),
    ]
    if any(c not in profiles.columns for c in needed):
        return {}
    scores = replicate_map(profiles, **options)
    return {
        "replicate_map": float(scores["mean_average_precision"].mean()),
        "replicate_fraction_retrieved": float(scores["below_corrected_p"].mean()),
    }


def batch_metric_table(
    profiles_by_method: Mapping[str, pd.DataFrame],
    *,
    label_col: str,
    batch_col: str,
    group_col: str | None = None,
    k: int = 1,
    metric: str = "cosine",
    multilabel: bool = False,
    label_sep: str = " ",
    sample_size: int | None = None,
    random_state: int = 0,
    replicate_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row of batch-correction metrics per correction method.

    Parameters
    ----------
    profiles_by_method
        ``{method name: corrected profiles}``, e.g. ``{"none": raw, "harmony": corrected}``.
    label_col, batch_col
        Biological label (should stay separated) and batch variable (should mix).
    group_col
        Passed to :func:`knn_score` for the label score (neighbours from other groups only).
    k, metric, multilabel, label_sep
        :func:`knn_score` options (the silhouettes use ``metric`` too).
    sample_size, random_state
        :func:`silhouette` subsampling.
    replicate_options
        Keyword options of :func:`replicate_map`; its mAP is added for every table that has the
        compound, dose and plate columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``n_profiles``, ``n_features``, ``label_silhouette`` (higher is better),
        ``batch_silhouette`` (lower is better), ``label_knn_f1`` (higher is better), ``batch_knn_f1``
        (lower is better) and, where available, ``replicate_map`` and ``replicate_fraction_retrieved``.
    """
    replicate_options = dict(replicate_options or {})
    rows = []
    for method, profiles in profiles_by_method.items():
        shared = {"metric": metric, "sample_size": sample_size, "random_state": random_state}
        rows.append(
            {
                "method": method,
                "n_profiles": len(profiles),
                "n_features": len(feature_columns(profiles)),
                "label_silhouette": silhouette(profiles, label_col=label_col, **shared),
                "batch_silhouette": silhouette(profiles, label_col=batch_col, **shared),
                "label_knn_f1": knn_score(
                    profiles,
                    label_col=label_col,
                    group_col=group_col,
                    k=k,
                    metric=metric,
                    multilabel=multilabel,
                    label_sep=label_sep,
                ),
                "batch_knn_f1": knn_score(profiles, label_col=batch_col, k=k, metric=metric),
                **_replicate_summary(profiles, replicate_options),
            }
        )
    return pd.DataFrame(rows)
