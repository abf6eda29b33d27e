"""Group-aware train/validation/test splits for the probes of supplement Tables A-D.

No group is ever in two splits: an antibody (protein) for HPA (SubCell protocol, Tables A and B),
a compound for Cell Painting (Way et al. 2022 protocol, Table D). Splits are drawn from a seeded
NumPy generator, so the same table and seed always give the same split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from celldino_utils.io.classes import label_sets
from celldino_utils.io.profiles import metadata_columns, require_metadata

SPLITS = ("train", "val", "test")


def _split_counts(n_groups: int, fractions: Sequence[float], *, group_col: str, source: str) -> dict[str, int]:
    """Number of groups per split; raises if a split with a positive fraction would be empty."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or fractions[0] <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"{source}: fractions must be three non-negative numbers (train, val, test) with train > 0 "
            f"summing to 1, got {fractions}"
        )
    counts = {"val": int(round(fractions[1] * n_groups)), "test": int(round(fractions[2] * n_groups))}
    counts["train"] = n_groups - counts["val"] - counts["test"]
    for name, fraction in zip(SPLITS, fractions, strict=True):
        if fraction > 0 and counts[name] < 1:
            raise ValueError(
                f"{source}: split {name!r} would be empty: fraction {fraction} of {n_groups} group(s) "
                f"of column {group_col!r}; use more groups or a larger fraction"
            )
    return counts


def _group_classes(profiles: pd.DataFrame, *, group_col: str, label_col: str, label_sep: str | None) -> pd.Series:
    """For each group, the set of classes carried by any of its rows (the union of their labels)."""
    sets = pd.Series(label_sets(profiles[label_col], sep=label_sep), index=profiles.index)
    return sets.groupby(profiles[group_col]).agg(lambda col: frozenset().union(*col))


def _reserve_for_train(classes: pd.Series, order: np.ndarray, *, n_train: int, source: str) -> list[object]:
    """Groups put in train first so that every class has a training group, rarest class first."""
    position = {group: rank for rank, group in enumerate(classes.index[order])}
    carriers: dict[str, list[object]] = {}
    for group, group_set in classes.items():
        for label in group_set:
            carriers.setdefault(label, []).append(group)
    reserved: list[object] = []
    covered: set[str] = set()
    for label in sorted(carriers, key=lambda c: (len(carriers[c]), c)):
        if label in covered:
            continue
        chosen = min(carriers[label], key=position.__getitem__)
        reserved.append(chosen)
        covered |= classes[chosen]
    if len(reserved) > n_train:
        raise ValueError(
            f"{source}: keeping every class in train needs {len(reserved)} training groups but train holds "
            f"{n_train}; raise the train fraction or merge rare classes"
        )
    return reserved


def grouped_split(
    profiles: pd.DataFrame,
    *,
    group_col: str,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int,
    label_col: str | None = None,
    label_sep: str | None = " ",
) -> pd.Series:
    """Assign every row to ``"train"``, ``"val"`` or ``"test"`` so that no group is in two splits.

    Parameters
    ----------
    profiles
        ``N`` rows with ``group_col`` (and ``label_col``).
    group_col
        Grouping column: antibody/protein for HPA, compound for Cell Painting.
    fractions
        Fractions of the *groups* (not rows) in train, val and test. A zero fraction leaves that
        split out; a positive one that rounds to no group raises.
    seed
        Seed of the random assignment.
    label_col, label_sep
        Optional labels (``"0 25"`` for multilabel HPA; ``label_sep=None`` for one class per row,
        e.g. a cell line with spaces in its name). If given, every class goes into train.

    Returns
    -------
    pandas.Series
        Named ``"split"``, index of ``profiles``, values ``"train"``, ``"val"``, ``"test"``.

    Notes
    -----
    Groups are shuffled with the seed. With labels, each group carries the union of its rows'
    classes; classes are visited from the rarest (fewest groups) up, and for every class that no
    reserved group carries yet, the carrier that comes first in the shuffled order is reserved for
    train. The other groups then fill val and test in shuffled order, and the rest go to train. A
    class carried by one group only is therefore never in val or test.
    """
    source = "grouped_split(profiles)"
    require_metadata(profiles, [group_col] if label_col is None else [group_col, label_col], source=source)
    groups = pd.Index(sorted(profiles[group_col].unique(), key=str))
    counts = _split_counts(len(groups), fractions, group_col=group_col, source=source)
    order = np.random.default_rng(seed).permutation(len(groups))
    reserved: list[object] = []
    if label_col is not None:
        classes = _group_classes(profiles, group_col=group_col, label_col=label_col, label_sep=label_sep)
        reserved = _reserve_for_train(classes.reindex(groups), order, n_train=counts["train"], source=source)
    held = set(reserved)
    rest = [g for g in groups[order] if g not in held]
    assignment = dict.fromkeys(reserved, "train")
    assignment |= dict.fromkeys(rest[: counts["val"]], "val")
    assignment |= dict.fromkeys(rest[counts["val"] : counts["val"] + counts["test"]], "test")
    assignment |= dict.fromkeys(rest[counts["val"] + counts["test"] :], "train")
    return profiles[group_col].map(assignment).rename("split")


def compound_split(
    profiles: pd.DataFrame,
    *,
    compound_col: str = "Metadata_broad_sample",
    moa_col: str = "Metadata_moa",
    label_sep: str | None = "|",
    test_fraction: float = 0.2,
    seed: int,
) -> pd.Series:
    """Split compounds into train and test, every test MoA also in train (Way et al. 2022; Table D).

    Parameters
    ----------
    profiles
        Rows (replicate wells) with ``compound_col`` and ``moa_col``; each compound has one annotation,
        which may name several MoAs separated by ``label_sep`` (``"a|b"``; None: the whole string is one).
    test_fraction
        Fraction of the compounds put in test; must leave at least one.
    seed
        Seed of the random assignment.

    Returns
    -------
    pandas.Series
        Named ``"split"``, index of ``profiles``, values ``"train"`` and ``"test"``.

    Notes
    -----
    Compounds are visited in a seeded random order; a compound goes to test while test holds fewer
    than ``round(test_fraction * n_compounds)`` compounds and each of its MoAs keeps at least one other
    compound in train. A MoA with a single compound therefore always stays in train. Raises if the
    target number of test compounds cannot be reached under that rule, or a compound has no MoA.
    """
    source = "compound_split(profiles)"
    require_metadata(profiles, [compound_col, moa_col], source=source)
    moas = profiles.groupby(compound_col)[moa_col].unique()
    mixed = moas[moas.map(len) > 1]
    if len(mixed):
        raise ValueError(f"{source}: compound(s) with more than one {moa_col!r}: {dict(mixed.head(3))}")
    moa_of = pd.Series(label_sets(moas.map(lambda v: v[0]), sep=label_sep), index=moas.index)
    unlabelled = moa_of[moa_of.map(len) == 0]
    if len(unlabelled):
        raise ValueError(f"{source}: compound(s) with an empty {moa_col!r}: {list(unlabelled.index[:3])}")
    compounds = sorted(moa_of.index, key=str)
    if not 0 < test_fraction < 1:
        raise ValueError(f"{source}: test_fraction must be in (0, 1), got {test_fraction}")
    n_test = int(round(test_fraction * len(compounds)))
    if n_test < 1:
        raise ValueError(f"{source}: test would be empty: test_fraction {test_fraction} of {len(compounds)} compounds")
    left_in_train = Counter(label for labels in moa_of for label in labels)
    test: set[object] = set()
    for index in np.random.default_rng(seed).permutation(len(compounds)):
        compound = compounds[index]
        if len(test) < n_test and all(left_in_train[label] > 1 for label in moa_of[compound]):
            test.add(compound)
            left_in_train.subtract(moa_of[compound])
    if len(test) < n_test:
        raise ValueError(
            f"{source}: only {len(test)} of the {n_test} wanted test compounds can be drawn while keeping every "
            f"test MoA in train (MoAs with one compound stay in train); lower test_fraction"
        )
    return profiles[compound_col].map(lambda c: "test" if c in test else "train").rename("split")


def attach_split(
    profiles: pd.DataFrame, splits: pd.DataFrame, *, group_col: str = "Metadata_antibody", source: str = "splits"
) -> tuple[pd.DataFrame, int]:
    """Add a published split (SubCell's antibody split) as ``Metadata_split``; keep only the rows it assigns.

    Parameters
    ----------
    profiles
        Profiles with ``group_col``.
    splits
        Two columns: the group (named as ``group_col`` without its ``Metadata_`` prefix, e.g. ``antibody``)
        and ``split`` (``train``, ``val`` or ``test``), one row per group.
    source
        Name of the split table in messages (its file).

    Returns
    -------
    (profiles, n_left_out)
        The rows whose group the split assigns, with ``Metadata_split``; and how many rows were left out
        (groups the published split filtered away).

    Raises
    ------
    ValueError
        Naming ``source`` and the column: a missing column, a group listed twice, a split name not in
        ``train``/``val``/``test``, or no row left.
    """
    require_metadata(profiles, [group_col], source="profiles")
    key = group_col.removeprefix("Metadata_")
    missing = [c for c in (key, "split") if c not in splits.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; expected {key!r} and 'split'")
    if splits[key].duplicated().any():
        raise ValueError(f"{source}: {key} {splits.loc[splits[key].duplicated(), key].head(3).tolist()} listed twice")
    unknown = sorted(set(map(str, splits["split"])) - set(SPLITS))
    if unknown:
        raise ValueError(f"{source}: column 'split' holds {unknown}; allowed: {list(SPLITS)}")
    assigned = dict(zip(splits[key].astype(str), splits["split"].astype(str), strict=True))
    split = profiles[group_col].astype(str).map(assigned)
    kept = profiles[split.notna()].copy()
    kept.insert(len(metadata_columns(kept)), "Metadata_split", split[split.notna()])  # metadata, then features
    if kept.empty:
        raise ValueError(f"{source}: none of the profiles' {group_col} values is in the split")
    return kept, int(split.isna().sum())
