"""Linear probe on frozen features, macro F1 (HPA-FoV, main paper and supplement Table C).

Features are standardised (mean and scale fitted on the training rows only), then a scikit-learn
``LogisticRegression`` is fitted: multinomial for a multiclass label (cell line), one binary model
per class (``OneVsRestClassifier``) for a multilabel one (protein localisation).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler

from celldino_utils.io.classes import label_sets
from celldino_utils.io.profiles import feature_matrix, require_metadata

THRESHOLD = 0.5


def _label_sets(labels: pd.Series, sep: str) -> list[frozenset[str]]:
    sets = label_sets(labels, sep=sep)
    empty = sum(1 for s in sets if not s)
    if empty:
        raise ValueError(f"linear_probe_f1: {empty} row(s) of column {labels.name!r} hold no label")
    return sets


def _unseen(test_classes: set[str], train_classes: set[str], *, label_col: str) -> None:
    unseen = sorted(test_classes - train_classes)
    if unseen:
        raise ValueError(f"linear_probe_f1: test class(es) {unseen[:5]} of {label_col!r} have no training example")


def linear_probe_f1(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    label_col: str,
    multilabel: bool,
    seed: int,
    label_sep: str = " ",
    C: float = 1.0,
    max_iter: int = 2000,
) -> float:
    """Macro F1 on ``test`` of a logistic-regression probe fitted on ``train``.

    Parameters
    ----------
    train, test
        Profile tables with the same feature columns and ``label_col``.
    label_col
        Label column: one class per row (``multilabel=False``, e.g. ``Metadata_cell_line``) or
        ``label_sep``-separated class sets (``multilabel=True``, e.g. ``Metadata_Target`` = ``"0 25"``).
    multilabel
        Multilabel (one-vs-rest, a class is predicted when its probability is >= 0.5) or multiclass
        (multinomial, the most probable class).
    seed
        ``random_state`` of the solver.
    C, max_iter
        Inverse regularisation strength and solver iterations of ``LogisticRegression``.

    Returns
    -------
    float
        Macro F1 in ``[0, 1]`` (times 100 for Table C): unweighted mean over the training classes
        (multilabel) or over the classes in the test truth or predictions (multiclass). A class with
        no positive and no prediction scores 0 (``zero_division=0``). Raises if a test class has no
        training example.
    """
    for name, table in (("train", train), ("test", test)):
        require_metadata(table, [label_col], source=f"linear_probe_f1({name})")
    X_train = feature_matrix(train, source="linear_probe_f1(train)")
    X_test = feature_matrix(test, source="linear_probe_f1(test)")
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"linear_probe_f1: train has {X_train.shape[1]} features, test {X_test.shape[1]}")
    logistic = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    if not multilabel:
        y_train, y_test = train[label_col].astype(str).to_numpy(), test[label_col].astype(str).to_numpy()
        _unseen(set(y_test), set(y_train), label_col=label_col)
        if len(set(y_train)) < 2:
            raise ValueError(f"linear_probe_f1: column {label_col!r} of train needs at least 2 classes")
        model = make_pipeline(StandardScaler(), logistic).fit(X_train, y_train)
        return float(f1_score(y_test, model.predict(X_test), average="macro", zero_division=0))
    sets_train, sets_test = _label_sets(train[label_col], label_sep), _label_sets(test[label_col], label_sep)
    classes = sorted(frozenset().union(*sets_train))
    _unseen(set().union(*sets_test), set(classes), label_col=label_col)
    binarizer = MultiLabelBinarizer(classes=classes)
    Y_train, Y_test = binarizer.fit_transform(sets_train), binarizer.transform(sets_test)
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(logistic)).fit(X_train, Y_train)
    predicted = (model.predict_proba(X_test) >= THRESHOLD).astype(int)
    return float(f1_score(Y_test, predicted, average="macro", zero_division=0))


def heldout_probe_f1(
    profiles: pd.DataFrame,
    *,
    label_col: str,
    group_col: str,
    multilabel: bool = False,
    query: str | None = None,
    seed: int = 0,
    C: float = 1.0,
    n_jobs: int = 1,
    held_out: Sequence[object] | None = None,
) -> dict[object, float]:
    """Macro F1 on each value of ``group_col`` of a probe fitted on the rows of every other value.

    Parameters
    ----------
    profiles
        Profile table ``(n_rows, n_metadata + n_features)`` with ``label_col`` and ``group_col``.
    label_col, multilabel, seed, C
        As in :func:`linear_probe_f1`.
    group_col
        Held out one value at a time (``Metadata_Plate``: can the features tell the class on a plate they
        never saw?).
    query
        ``DataFrame.query`` selecting the rows scored (``"Metadata_dose_recode == 6"``), or None for all.
    n_jobs
        Groups fitted side by side in that many processes (joblib; -1: one per core), each with its share of
        the BLAS threads. A probe of a few thousand rows fits several times faster on one thread than on two.
    held_out
        The values of ``group_col`` held out in turn (each probe still fits on every other value), or None for
        every value: fewer fits where time is short, e.g. one plate of each batch.

    Returns
    -------
    dict
        ``{group value: macro F1 in [0, 1]}`` in sorted group order.
    """
    require_metadata(profiles, [label_col, group_col], source="heldout_probe_f1(profiles)")
    rows = profiles.query(query) if query else profiles
    groups = held_out_groups(rows[group_col], held_out, source="heldout_probe_f1")
    options = {"label_col": label_col, "multilabel": multilabel, "seed": seed, "C": C}
    fits = (delayed(linear_probe_f1)(rows[rows[group_col] != g], rows[rows[group_col] == g], **options) for g in groups)
    return dict(zip(groups, Parallel(n_jobs=n_jobs)(fits), strict=True))


def held_out_groups(values: pd.Series, held_out: Sequence[object] | None, *, source: str) -> list[object]:
    """The sorted values of a group column to hold out in turn: ``held_out``, or every value when it is None.

    Raises ValueError naming ``source`` and the column when it has fewer than 2 values, or when ``held_out``
    names a value the rows do not have (or is empty).
    """
    present = sorted(values.unique())
    if len(present) < 2:
        raise ValueError(f"{source}: column {values.name!r} needs at least 2 values to hold one out, got {present}")
    if held_out is None:
        return present
    missing = [value for value in held_out if value not in set(present)]
    if missing or not held_out:
        raise ValueError(
            f"{source}: held_out must name values of column {values.name!r} ({present}); "
            f"{f'not there: {missing}' if missing else 'it is empty'}"
        )
    return sorted(set(held_out))
