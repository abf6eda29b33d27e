"""Index readers for Human Protein Atlas data: Kaggle 2018, Kaggle 2021 and the official Cell-DINO HPA-FoV layout.

Each reader returns one table per data set, one row per field of view, with
``Metadata_*`` columns (``Metadata_Id``, ``Metadata_Target`` as space-separated
class indices, ``Metadata_class_list`` naming the list they index, plus every
column of an optional per-image metadata CSV) and a private ``_paths`` column
holding the image file(s) of each field, in channel order.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from celldino_utils.io.channels import HPA_KAGGLE
from celldino_utils.io.classes import CLASS_LISTS, label_sets
from celldino_utils.io.files import HPA_FOV_CSV, HPA_IMAGE_DIR, HPA_LABELS_CSV, HPA_METADATA_CSV
from celldino_utils.io.tables import read_csv, require_columns

PATHS_COLUMN = "_paths"

_KAGGLE_LABELS = {
    # columns of train.csv -> (id column, label column, separator, class list)
    "hpa-kaggle-2018": ("Id", "Target", " ", "hpa-kaggle-2018"),
    "hpa-kaggle-2021": ("ID", "Label", "|", "hpa-kaggle-2021"),
}


def _parse_labels(labels: pd.Series, *, separator: str, class_list: str, source: str, ids: pd.Series) -> pd.Series:
    """Turn ``"0 25"`` / ``"0|25"`` strings into canonical space-separated sorted indices, checking the range."""
    n_classes = len(CLASS_LISTS[class_list])
    parsed = []
    for image_id, value in zip(ids, labels, strict=True):
        if pd.isna(value) or str(value).strip() == "":
            raise ValueError(f"{source}: image {image_id} has no label")
        try:
            indices = sorted(int(token) for token in label_sets([value], sep=separator)[0])
        except ValueError:
            raise ValueError(
                f"{source}: image {image_id} has a label {value!r} that is not {separator!r}-separated integers"
            ) from None
        unknown = [i for i in indices if not 0 <= i < n_classes]
        if unknown:
            raise ValueError(
                f"{source}: image {image_id} has unknown class index {unknown} ({class_list} has {n_classes} classes)"
            )
        parsed.append(" ".join(str(i) for i in indices))
    return pd.Series(parsed, index=labels.index, dtype="string")


def _detect_kaggle_version(labels: pd.DataFrame, *, source: str) -> str:
    for version, (id_col, label_col, _, _) in _KAGGLE_LABELS.items():
        if {id_col, label_col} <= set(labels.columns):
            return version
    raise ValueError(
        f"{source}: expected columns Id,Target (Kaggle 2018) or ID,Label (Kaggle 2021), found {list(labels.columns)}"
    )


def _join_metadata(index: pd.DataFrame, metadata_csv: Path | None) -> pd.DataFrame:
    """Add every column of a per-image metadata CSV as ``Metadata_<column>``; every image must have a row.

    The image id column is ``Id`` (Kaggle 2018) or ``ID`` (Kaggle 2021), whichever the file has.
    """
    if metadata_csv is None or not metadata_csv.exists():
        return index
    metadata = read_csv(metadata_csv)
    id_column = next((c for c in ("Id", "ID") if c in metadata.columns), "Id")
    require_columns(metadata, [id_column], source=metadata_csv)
    if metadata[id_column].duplicated().any():
        dupes = metadata.loc[metadata[id_column].duplicated(), id_column].head(3).tolist()
        raise ValueError(f"{metadata_csv}: duplicated {id_column} values {dupes}")
    metadata = metadata.rename(columns=lambda c: "Metadata_Id" if c == id_column else f"Metadata_{c}")
    overlap = (set(metadata.columns) & set(index.columns)) - {"Metadata_Id"}
    metadata = metadata.drop(columns=sorted(overlap))
    joined = index.merge(metadata, on="Metadata_Id", how="left", indicator=True, validate="one_to_one")
    missing = joined.loc[joined["_merge"] == "left_only", "Metadata_Id"]
    if len(missing):
        raise ValueError(
            f"{metadata_csv}: no metadata row for {len(missing)} image(s), e.g. {missing.head(3).tolist()}"
        )
    return joined.drop(columns="_merge")


def read_hpa_kaggle(
    data_dir: str | Path,
    *,
    labels_csv: str = HPA_LABELS_CSV,
    image_dir: str = HPA_IMAGE_DIR,
    extension: str = ".png",
    metadata_csv: str | None = HPA_METADATA_CSV,
) -> pd.DataFrame:
    """Index an HPA Kaggle data set (2018 ``Id,Target`` or 2021 ``ID,Label``, detected from the header).

    Parameters
    ----------
    data_dir
        Folder holding ``labels_csv`` and ``image_dir/{Id}_{red,green,blue,yellow}{extension}``.
    metadata_csv
        Optional per-image table with an ``Id`` column (cell line, plate, antibody...); ignored when absent.

    Returns
    -------
    pandas.DataFrame
        One row per image: ``Metadata_Id``, ``Metadata_Target``, ``Metadata_class_list``, joined metadata, ``_paths``.
    """
    data_dir = Path(data_dir)
    source = data_dir / labels_csv
    labels = read_csv(source)
    version = _detect_kaggle_version(labels, source=str(source))
    id_col, label_col, separator, class_list = _KAGGLE_LABELS[version]
    if labels[id_col].duplicated().any():
        raise ValueError(
            f"{source}: duplicated image ids {labels.loc[labels[id_col].duplicated(), id_col].head(3).tolist()}"
        )
    index = pd.DataFrame(
        {
            "Metadata_Id": labels[id_col].astype("string"),
            "Metadata_Target": _parse_labels(
                labels[label_col], separator=separator, class_list=class_list, source=str(source), ids=labels[id_col]
            ),
            "Metadata_class_list": class_list,
        }
    )
    index = _join_metadata(index, data_dir / metadata_csv if metadata_csv else None)
    folder = data_dir / image_dir
    index[PATHS_COLUMN] = [
        tuple(folder / f"{image_id}_{tag}{extension}" for tag in HPA_KAGGLE.file_tags)
        for image_id in index["Metadata_Id"]
    ]
    return index


def read_hpa_fov(
    data_dir: str | Path,
    *,
    labels_csv: str = HPA_FOV_CSV,
    metadata_csv: str | None = "metadata.csv",
) -> pd.DataFrame:
    """Index the official Cell-DINO HPA-FoV layout: one multi-channel image per field, a CSV with
    ``file``, ``cell_type`` and 28 boolean class columns.

    The image id is the file name without its suffix; class columns are the Kaggle 2018 class names.
    """
    data_dir = Path(data_dir)
    source = data_dir / labels_csv
    table = read_csv(source)
    classes = CLASS_LISTS["hpa-kaggle-2018"]
    require_columns(table, ["file", "cell_type", *classes], source=source)
    flags = table[list(classes)]
    truthy = flags.isin([True, False, 0, 1, "True", "False", "true", "false"]).all()
    if not truthy.all():
        bad = [c for c in classes if not truthy[c]]
        raise ValueError(f"{source}: class column(s) {bad} hold values other than booleans")
    flags = flags.replace({"True": True, "False": False, "true": True, "false": False}).astype(bool)
    ids = table["file"].map(lambda f: Path(str(f)).stem).astype("string")
    unlabelled = ids[~flags.any(axis=1)]
    if len(unlabelled):
        raise ValueError(f"{source}: {len(unlabelled)} field(s) have no class set, e.g. {unlabelled.head(3).tolist()}")
    index = pd.DataFrame(
        {
            "Metadata_Id": ids,
            "Metadata_Target": [" ".join(str(i) for i in row.nonzero()[0]) for row in flags.to_numpy()],
            "Metadata_class_list": "hpa-kaggle-2018",
            "Metadata_cell_line": table["cell_type"].astype("string"),
        }
    )
    index = _join_metadata(index, data_dir / metadata_csv if metadata_csv else None)
    index[PATHS_COLUMN] = [(data_dir / str(f),) for f in table["file"]]
    return index


def label_table(metadata: pd.DataFrame) -> pd.DataFrame:
    """One row per (field, label): ``Metadata_Id``, ``class_index`` and ``class_name`` from ``Metadata_Target``."""
    require_columns(metadata, ["Metadata_Id", "Metadata_Target", "Metadata_class_list"], source="metadata")
    rows = metadata[["Metadata_Id", "Metadata_Target", "Metadata_class_list"]].copy()
    rows["class_index"] = [sorted(int(i) for i in labels) for labels in label_sets(rows["Metadata_Target"])]
    rows = rows.explode("class_index", ignore_index=True)
    rows["class_index"] = rows["class_index"].astype(int)
    rows["class_name"] = [
        CLASS_LISTS[c][i] for c, i in zip(rows["Metadata_class_list"], rows["class_index"], strict=True)
    ]
    return rows[["Metadata_Id", "class_index", "class_name"]]
