"""Mechanism-of-action prediction by dose group (supplement Table D; protocol of Way et al. 2022).

Compounds are split into train and test (no compound in both, every test MoA in train); a
classifier is fitted on the replicate (well-level, sphered) profiles of the training compounds and
scores the test wells. The score is the micro-averaged area under the precision-recall curve of the
multi-class problem, ``average_precision_score(one_hot(test MoA), predict_proba, average="micro")``
times 100. The supplement averages ten random splits per model and dose group.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from celldino_utils.evaluate.splits import compound_split
from celldino_utils.io.profiles import feature_matrix, require_metadata

# LINCS dose codes (Metadata_dose_recode) 1..6 are about 0.04, 0.12, 0.37, 1.11, 3.33 and 10 uM
# (0 = DMSO). The supplement names three groups without their codes; we take two codes per group.
DOSE_GROUPS: Mapping[str, tuple[int, ...]] = MappingProxyType({"low": (1, 2), "medium": (3, 4), "maximum": (5, 6)})
CLASSIFIERS = ("logistic", "mlp")


def _classifier(name: str, seed: int) -> Pipeline:
    """Standardise features, then a multinomial logistic regression or a one-hidden-layer MLP."""
    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    if name == "mlp":
        mlp = MLPClassifier(hidden_layer_sizes=(256,), tol=1e-3, max_iter=500, random_state=seed)
        return make_pipeline(StandardScaler(), mlp)
    raise ValueError(f"moa_auprc: classifier must be one of {CLASSIFIERS}, got {name!r}")


def moa_auprc(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    moa_col: str = "Metadata_moa",
    classifier: str = "logistic",
    seed: int,
) -> float:
    """Micro-averaged AUPRC (times 100) of predicting ``moa_col`` of ``test`` from a model fitted on ``train``.

    Parameters
    ----------
    train, test
        Well-level profiles (same feature columns) of disjoint compounds.
    moa_col
        MoA label; a multi-MoA string (``"a|b"``) is one class.
    classifier
        ``"logistic"`` (multinomial logistic regression) or ``"mlp"`` (scikit-learn MLP, one hidden
        layer of 256, Adam, stops when the loss improves by less than 1e-3 for 10 epochs; Way et
        al. 2022 used MLP-type models), both after standardising the features on ``train``.
    seed
        ``random_state`` of the classifier.

    Returns
    -------
    float
        ``average_precision_score(Y, P, average="micro") * 100``: ``Y`` one-hot of the test MoA over
        the training MoA classes, ``P`` the predicted class probabilities. Raises if a test MoA has
        no training example.
    """
    require_metadata(train, [moa_col], source="moa_auprc(train)")
    require_metadata(test, [moa_col], source="moa_auprc(test)")
    X_train = feature_matrix(train, source="moa_auprc(train)")
    X_test = feature_matrix(test, source="moa_auprc(test)")
    y_train, y_test = train[moa_col].astype(str).to_numpy(), test[moa_col].astype(str).to_numpy()
    unseen = sorted(set(y_test) - set(y_train))
    if unseen:
        raise ValueError(f"moa_auprc: test MoA(s) {unseen[:5]} of {moa_col!r} have no training example")
    if len(set(y_train)) < 2:
        raise ValueError(f"moa_auprc: column {moa_col!r} of train needs at least 2 MoAs")
    model = _classifier(classifier, seed).fit(X_train, y_train)
    classes = model.classes_
    truth = (y_test[:, None] == classes[None, :]).astype(int)
    return float(average_precision_score(truth, model.predict_proba(X_test), average="micro") * 100)


def dose_groups(
    profiles: pd.DataFrame,
    *,
    dose_col: str = "Metadata_dose_recode",
    groups: Mapping[str, tuple[int, ...]] | None = None,
) -> pd.Series:
    """Dose group name of every row.

    Parameters
    ----------
    profiles
        Well-level profiles with the integer dose code ``dose_col``.
    groups
        ``{group name: dose codes}``; None gives :data:`DOSE_GROUPS`: LINCS codes 1..6
        (0.04..10 uM) two per group, low (1, 2), medium (3, 4), maximum (5, 6).

    Returns
    -------
    pandas.Series
        Named ``"Metadata_dose_group"``, index of ``profiles``: the group of each row, ``<NA>`` for
        codes in no group (e.g. DMSO, code 0). Raises if groups share a code or a group has no row.
    """
    source = "dose_groups(profiles)"
    groups = DOSE_GROUPS if groups is None else groups
    require_metadata(profiles, [dose_col], source=source)
    seen: dict[int, str] = {}
    for name, codes in groups.items():
        for code in codes:
            if code in seen:
                raise ValueError(f"{source}: dose code {code} is in both groups {seen[code]!r} and {name!r}")
            seen[code] = name
    labels = profiles[dose_col].map(seen).astype("string").rename("Metadata_dose_group")
    empty = [name for name in groups if not (labels == name).any()]
    if empty:
        raise ValueError(
            f"{source}: dose group(s) {[(n, groups[n]) for n in empty]} match no compound well in column "
            f"{dose_col!r} (codes present: {sorted(profiles[dose_col].unique().tolist())})"
        )
    return labels


def moa_by_dose(
    profiles: pd.DataFrame,
    *,
    n_runs: int = 10,
    seed: int = 0,
    moa_col: str = "Metadata_moa",
    compound_col: str = "Metadata_broad_sample",
    dose_col: str = "Metadata_dose_recode",
    groups: Mapping[str, tuple[int, ...]] | None = None,
    test_fraction: float = 0.2,
    classifier: str = "logistic",
) -> pd.DataFrame:
    """MoA AUPRC for each dose group and run, each run with a fresh compound split (Table D).

    Parameters
    ----------
    profiles
        Well-level (replicate) profiles with ``moa_col``, ``compound_col`` and ``dose_col``; rows
        whose dose code is in no group (DMSO) are not used.
    n_runs, seed
        Number of runs; run ``r`` uses seed ``seed + r`` for its split and classifier, the same seed
        for every dose group (so a compound set shared by the groups is split the same way).
    groups
        Dose groups, see :func:`dose_groups`.
    test_fraction, classifier
        :func:`compound_split` and :func:`moa_auprc` options.

    Returns
    -------
    pandas.DataFrame
        One row per dose group and run: ``dose_group``, ``run``, ``seed``, ``auprc`` (times 100),
        ``n_train_wells``, ``n_test_wells``, ``n_train_compounds``, ``n_test_compounds``,
        ``n_moas`` (training MoAs) and ``test_compounds`` (sorted, ``"|"``-joined). Summarise with
        :func:`summarise_moa_runs`.
    """
    if n_runs < 1:
        raise ValueError(f"moa_by_dose: n_runs must be >= 1, got {n_runs}")
    require_metadata(profiles, [moa_col, compound_col, dose_col], source="moa_by_dose(profiles)")
    groups = DOSE_GROUPS if groups is None else groups
    labels = dose_groups(profiles, dose_col=dose_col, groups=groups)
    rows = []
    for group in groups:
        wells = profiles.loc[(labels == group).fillna(False).to_numpy(dtype=bool)]
        for run in range(n_runs):
            split = compound_split(
                wells, compound_col=compound_col, moa_col=moa_col, test_fraction=test_fraction, seed=seed + run
            ).to_numpy()
            train, test = wells.loc[split == "train"], wells.loc[split == "test"]
            score = moa_auprc(train, test, moa_col=moa_col, classifier=classifier, seed=seed + run)
            rows.append(
                {
                    "dose_group": group,
                    "run": run,
                    "seed": seed + run,
                    "auprc": score,
                    "n_train_wells": len(train),
                    "n_test_wells": len(test),
                    "n_train_compounds": train[compound_col].nunique(),
                    "n_test_compounds": test[compound_col].nunique(),
                    "n_moas": train[moa_col].nunique(),
                    "test_compounds": "|".join(sorted(map(str, test[compound_col].unique()))),
                }
            )
    return pd.DataFrame(rows)


def summarise_moa_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (``ddof=1``; NaN for one run) of ``auprc`` per dose group.

    Parameters
    ----------
    runs
        Output of :func:`moa_by_dose`.

    Returns
    -------
    pandas.DataFrame
        One row per dose group, in the order of ``runs``: ``dose_group``, ``auprc_mean``,
        ``auprc_std``, ``n_runs``.
    """
    require_metadata(runs, ["dose_group", "auprc"], source="summarise_moa_runs(runs)")
    grouped = runs.groupby("dose_group", sort=False)["auprc"]
    summary = grouped.agg(auprc_mean="mean", auprc_std=lambda s: s.std(ddof=1), n_runs="size")
    return summary.reset_index()
