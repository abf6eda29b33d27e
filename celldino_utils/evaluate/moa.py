"""Mechanism-of-action prediction by dose group (supplement Table D; protocol of Way et al. 2022).

Compounds are split into train and test (no compound in both, every test MoA in train); a
classifier is fitted on the replicate (well-level, sphered) profiles of the training compounds and
scores the test wells. The score is the micro-averaged area under the precision-recall curve of the
multi-class problem, ``average_precision_score(one_hot(test MoA), predict_proba, average="micro")``
times 100. The supplement averages ten random splits per model and dose group.

Real LINCS annotations hold compounds without an MoA and compounds with several (``"a|b"``):
:func:`moa_task_wells` says which wells enter the task, and counts per plate those it leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from celldino_utils.evaluate.splits import compound_split
from celldino_utils.io.classes import label_sets
from celldino_utils.io.profiles import feature_matrix, query_mask, require_metadata

# LINCS dose codes (Metadata_dose_recode) 1..6 are about 0.04, 0.12, 0.37, 1.11, 3.33 and 10 uM
# (0 = DMSO). The supplement names three groups without their codes; we take two codes per group.
DOSE_GROUPS: Mapping[str, tuple[int, ...]] = MappingProxyType({"low": (1, 2), "medium": (3, 4), "maximum": (5, 6)})
CLASSIFIERS = ("logistic", "mlp")
#: Separator of the MoAs of a compound annotated with several (LINCS ``"a|b|c"``).
MOA_SEP = "|"
#: Treatments of a compound with several MoAs, see :func:`moa_task_wells`; the first is the default.
MULTI_MOA = ("expand", "first", "drop")
#: Why a treated well has no label in the MoA task, as :func:`moa_task_wells` counts it.
NO_MOA = "no MoA annotation"


def _moas(value: object) -> list[str]:
    """The MoAs of one annotation in the order listed, stripped and without repeats (``[]`` for none)."""
    if pd.isna(value):
        return []
    return list(dict.fromkeys(t.strip() for t in str(value).split(MOA_SEP) if t.strip()))


def moa_task_wells(
    wells: pd.DataFrame,
    *,
    multi_moa: str = "expand",
    moa_col: str = "Metadata_moa",
    plate_col: str = "Metadata_Plate",
    control_query: str | None = None,
    control_label: str = "control",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The wells that enter an MoA task, and per plate how many were left out or kept with several MoAs.

    Parameters
    ----------
    wells
        Well profiles with ``moa_col`` (empty for a compound without an MoA annotation, ``"a|b"`` for one with
        several) and ``plate_col``. Sphering and other steps that need every well come before this selection.
    multi_moa
        What a compound with several MoAs is: ``"expand"`` (default) keeps its wells as a positive example of
        each of its MoAs (the multi-label targets of Way et al. 2022; :func:`compound_split` keeps every MoA of
        a test compound in training and :func:`moa_auprc` scores a multi-hot truth), ``"first"`` keeps only the
        MoA listed first, ``"drop"`` leaves its wells out of the task.
    control_query
        Selects the control wells (DMSO), kept whatever their annotation: those without one are labelled
        ``control_label``, as the synthetic data label them. None: every well is a treated well.

    Returns
    -------
    (task, counts)
        ``task``: the wells kept, in order, with ``moa_col`` normalised (MoAs stripped and joined by ``|``; the
        first one only for ``"first"``). ``counts``: one row per plate and reason, ``plate_col``, ``reason``
        (:data:`NO_MOA`, or ``several MoAs (multi_moa=...)``), ``left_out`` (bool) and ``n_wells``; no row
        when every treated well has one MoA.
    """
    source = "moa_task_wells(wells)"
    if multi_moa not in MULTI_MOA:
        raise ValueError(f"multi_moa: choose one of {list(MULTI_MOA)}, got {multi_moa!r}")
    if moa_col not in wells.columns:
        require_metadata(wells, [moa_col], source=source)  # names the column and lists the present ones
    require_metadata(wells, [plate_col], source=source)
    moas = [_moas(value) for value in wells[moa_col]]
    treated = np.ones(len(wells), dtype=bool)
    if control_query is not None:
        treated = ~query_mask(wells, control_query, source=source, parameter="control_query")
    count = np.array([len(m) for m in moas])
    reason = np.full(len(wells), None, dtype=object)
    reason[(count == 0) & treated] = NO_MOA
    reason[(count > 1) & treated] = f"several MoAs (multi_moa={multi_moa!r})"
    kept = (count > 0) | ~treated
    if multi_moa == "drop":
        kept &= count < 2
    labels = [control_label if not m else m[0] if multi_moa == "first" else MOA_SEP.join(m) for m in moas]
    task = wells.loc[kept].copy()
    task[moa_col] = [label for label, keep in zip(labels, kept, strict=True) if keep]
    noted = pd.notna(reason)
    counts = pd.DataFrame(
        {plate_col: wells.loc[noted, plate_col].to_numpy(), "reason": reason[noted], "left_out": ~kept[noted]}
    )
    counts = counts.groupby([plate_col, "reason", "left_out"], sort=True).size().rename("n_wells").reset_index()
    return task, counts


def describe_moa_task(counts: pd.DataFrame, *, plate_col: str = "Metadata_Plate") -> str:
    """One sentence for a table's notes from the ``counts`` of :func:`moa_task_wells`: the wells left out of the
    task and those kept with several MoAs, each with its count per plate; ``""`` when there are none."""
    parts = []
    for (reason, left_out), rows in counts.groupby(["reason", "left_out"], sort=True):
        plates = ", ".join(f"{plate}: {n}" for plate, n in zip(rows[plate_col], rows["n_wells"], strict=True))
        what = "left out of the MoA task" if left_out else "in the MoA task"
        parts.append(f"{int(rows['n_wells'].sum())} well(s) {what}, {reason} (by plate {plates})")
    return "; ".join(parts)


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
        MoA label; a well of a compound with several MoAs (``"a|b"``) is a positive example of each: it is
        fitted once per MoA (the multinomial classifiers take one class per row; Way et al. 2022 trained
        multi-label models on the same multi-hot targets) and its truth row holds a 1 for each.
    classifier
        ``"logistic"`` (multinomial logistic regression) or ``"mlp"`` (scikit-learn MLP, one hidden
        layer of 256, Adam, stops when the loss improves by less than 1e-3 for 10 epochs; Way et
        al. 2022 used MLP-type models), both after standardising the features on ``train``.
    seed
        ``random_state`` of the classifier.

    Returns
    -------
    float
        ``average_precision_score(Y, P, average="micro") * 100``: ``Y`` the multi-hot test MoAs over
        the training MoA classes (one-hot for single-MoA compounds), ``P`` the predicted class
        probabilities. Raises if a test MoA has no training example or a well has no MoA
        (:func:`moa_task_wells` leaves those out first).
    """
    sets = {}
    for name, table in (("train", train), ("test", test)):
        require_metadata(table, [moa_col], source=f"moa_auprc({name})")
        sets[name] = label_sets(table[moa_col], sep=MOA_SEP)
        if not all(sets[name]):
            raise ValueError(f"moa_auprc: {sum(not s for s in sets[name])} {name} well(s) with an empty {moa_col!r}")
    X_train = feature_matrix(train, source="moa_auprc(train)")
    X_test = feature_matrix(test, source="moa_auprc(test)")
    seen = set().union(*sets["train"])
    unseen = sorted(set().union(*sets["test"]) - seen)
    if unseen:
        raise ValueError(f"moa_auprc: test MoA(s) {unseen[:5]} of {moa_col!r} have no training example")
    if len(seen) < 2:
        raise ValueError(f"moa_auprc: column {moa_col!r} of train needs at least 2 MoAs")
    repeats = [len(labels) for labels in sets["train"]]
    y_train = np.array([label for labels in sets["train"] for label in sorted(labels)])
    model = _classifier(classifier, seed).fit(np.repeat(X_train, repeats, axis=0), y_train)
    truth = np.array([[c in labels for c in model.classes_] for labels in sets["test"]], dtype=int)
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
        whose dose code is in no group (DMSO) are not used. Every row needs an MoA; ``"a|b"`` is a
        compound with two (see :func:`moa_task_wells`, which selects these rows from real annotations).
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
                wells,
                compound_col=compound_col,
                moa_col=moa_col,
                label_sep=MOA_SEP,
                test_fraction=test_fraction,
                seed=seed + run,
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
                    "n_moas": len(set().union(*label_sets(train[moa_col], sep=MOA_SEP))),
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
