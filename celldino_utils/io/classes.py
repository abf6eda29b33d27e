"""Class lists of the Human Protein Atlas data sets, declared once.

Indices follow the files the data sets ship: the Kaggle 2018 challenge
(``Id,Target``, 28 classes), the Kaggle 2021 single-cell challenge
(``ID,Label``, 19 classes) and the SubCell/HPAv23 sets used in supplement
Tables A (19 classes) and B (31 classes).
"""

from __future__ import annotations

from collections.abc import Iterable

HPA_KAGGLE_2018_CLASSES: tuple[str, ...] = (
    "Nucleoplasm",
    "Nuclear membrane",
    "Nucleoli",
    "Nucleoli fibrillar center",
    "Nuclear speckles",
    "Nuclear bodies",
    "Endoplasmic reticulum",
    "Golgi apparatus",
    "Peroxisomes",
    "Endosomes",
    "Lysosomes",
    "Intermediate filaments",
    "Actin filaments",
    "Focal adhesion sites",
    "Microtubules",
    "Microtubule ends",
    "Cytokinetic bridge",
    "Mitotic spindle",
    "Microtubule organizing center",
    "Centrosome",
    "Lipid droplets",
    "Plasma membrane",
    "Cell junctions",
    "Mitochondria",
    "Aggresome",
    "Cytosol",
    "Cytoplasmic bodies",
    "Rods & rings",
)

HPA_KAGGLE_2021_CLASSES: tuple[str, ...] = (
    "Nucleoplasm",
    "Nuclear membrane",
    "Nucleoli",
    "Nucleoli fibrillar center",
    "Nuclear speckles",
    "Nuclear bodies",
    "Endoplasmic reticulum",
    "Golgi apparatus",
    "Intermediate filaments",
    "Actin filaments",
    "Microtubules",
    "Mitotic spindle",
    "Centrosome",
    "Plasma membrane",
    "Mitochondria",
    "Aggresome",
    "Cytosol",
    "Vesicles and punctate cytosolic patterns",
    "Negative",
)

SUBCELL_19_CLASSES: tuple[str, ...] = (
    "Actin filaments",
    "Aggresome",
    "Centrosome",
    "Cytosol",
    "Endoplasmic reticulum",
    "Golgi apparatus",
    "Intermediate filaments",
    "Microtubules",
    "Mitochondria",
    "Mitotic spindle",
    "Nuclear bodies",
    "Nuclear membrane",
    "Nuclear speckles",
    "Nucleoli",
    "Nucleoli fibrillar center",
    "Nucleoplasm",
    "Plasma membrane",
    "Vesicles",
    "Negative",
)

SUBCELL_31_CLASSES: tuple[str, ...] = (
    "Actin filaments",
    "Aggresome",
    "Cell Junctions",
    "Centriolar satellite",
    "Centrosome",
    "Cytokinetic bridge",
    "Cytoplasmic bodies",
    "Cytosol",
    "Endoplasmic reticulum",
    "Endosomes",
    "Focal adhesion sites",
    "Golgi apparatus",
    "Intermediate filaments",
    "Lipid droplets",
    "Lysosomes",
    "Microtubules",
    "Midbody",
    "Mitochondria",
    "Mitotic chromosome",
    "Mitotic spindle",
    "Nuclear bodies",
    "Nuclear membrane",
    "Nuclear speckles",
    "Nucleoli",
    "Nucleoli fibrillar center",
    "Nucleoli rim",
    "Nucleoplasm",
    "Peroxisomes",
    "Plasma membrane",
    "Vesicles",
    "Negative",
)

CLASS_LISTS: dict[str, tuple[str, ...]] = {
    "hpa-kaggle-2018": HPA_KAGGLE_2018_CLASSES,
    "hpa-kaggle-2021": HPA_KAGGLE_2021_CLASSES,
    "subcell-19": SUBCELL_19_CLASSES,
    "subcell-31": SUBCELL_31_CLASSES,
}


def class_index(name: str, *, class_list: str = "hpa-kaggle-2018") -> int:
    """Return the index of class ``name`` in the named class list.

    Raises
    ------
    KeyError
        If the class list is unknown or does not hold ``name``.
    """
    if class_list not in CLASS_LISTS:
        raise KeyError(f"unknown class list {class_list!r}; known: {sorted(CLASS_LISTS)}")
    classes = CLASS_LISTS[class_list]
    if name not in classes:
        raise KeyError(f"class {name!r} is not in class list {class_list!r}")
    return classes.index(name)


def label_sets(labels: Iterable[object], *, sep: str | None = " ") -> list[frozenset[str]]:
    """One set of class labels per row: ``"0 25"`` -> ``{"0", "25"}`` with ``sep=" "``.

    Tokens are stripped and empty ones dropped, so a row without a label gives an empty set (callers
    name the column when they refuse it). With ``sep=None`` every row is one class, taken as it is.
    """
    if sep is None:
        return [frozenset([str(label)]) for label in labels]
    return [frozenset(token.strip() for token in str(label).split(sep)) - {""} for label in labels]
