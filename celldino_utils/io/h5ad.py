"""Profile tables as AnnData ``.h5ad`` files, the format scanpy, squidpy and scvi-tools read.

A profile table (``Metadata_*`` columns, then features) becomes: ``X`` the ``(N, D)`` float32 features,
``var_names`` their column names (``emb_0000``...), ``obs`` the ``Metadata_*`` columns (text as categoricals,
as AnnData stores text), ``uns["provenance"]`` the file's provenance record as JSON text (the record a
Parquet footer holds, :mod:`celldino_utils.io.provenance`), and each of its keys that has a value beside it
(``uns["model"]``, ``uns["channels"]``...) for a reader without our package.

The file is written with h5py in AnnData's on-disk format (encoding ``anndata`` 0.1.0: ``array``,
``string-array``, ``categorical``, ``nullable-integer``, ``nullable-boolean``, ``dataframe``, ``dict``),
so ``anndata.read_h5ad`` reads it; the anndata package itself is not a dependency (its releases require
pandas < 3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from celldino_utils.io.provenance import encode_provenance

H5AD_SUFFIX = ".h5ad"
_TEXT = h5py.string_dtype("utf-8")
_ENCODINGS = {
    "anndata": "0.1.0",
    "array": "0.2.0",
    "string-array": "0.2.0",
    "categorical": "0.2.0",
    "dataframe": "0.2.0",
    "dict": "0.1.0",
    "string": "0.2.0",
    "numeric-scalar": "0.2.0",
    "nullable-integer": "0.1.0",
    "nullable-boolean": "0.1.0",
}


def _encode(node: h5py.Group | h5py.Dataset, encoding: str) -> None:
    node.attrs["encoding-type"] = encoding
    node.attrs["encoding-version"] = _ENCODINGS[encoding]


def write_h5ad(
    metadata: pd.DataFrame,
    features: np.ndarray,
    path: str | Path,
    *,
    names: list[str],
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``metadata`` (``N`` rows, ``Metadata_*`` columns) and ``features`` ``(N, D)`` as an AnnData file.

    ``names`` are the ``D`` feature names (``var_names``); ``provenance`` (plain JSON values) goes to ``uns``.
    The file is written under a temporary name and renamed, so a killed write leaves none.
    """
    path = Path(path)
    features = np.asarray(features, dtype=np.float32)
    if features.shape != (len(metadata), len(names)):
        raise ValueError(f"{path}: features of shape {features.shape} for {len(metadata)} rows x {len(names)} names")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    with h5py.File(partial, "w") as root:
        _encode(root, "anndata")
        _encode(root.create_dataset("X", data=features), "array")
        _write_frame(root, "obs", metadata.reset_index(drop=True), index=[str(i) for i in range(len(metadata))])
        _write_frame(root, "var", pd.DataFrame(index=range(len(names))), index=list(names))
        uns = root.create_group("uns")
        _encode(uns, "dict")
        for name in ("obsm", "varm", "obsp", "varp", "layers"):
            _encode(root.create_group(name), "dict")
        if provenance:
            _write_uns(uns, {"provenance": encode_provenance(provenance).decode(), **provenance})
    partial.replace(path)
    return path


def _write_frame(root: h5py.Group, key: str, frame: pd.DataFrame, *, index: list[str]) -> None:
    group = root.create_group(key)
    _encode(group, "dataframe")
    group.attrs["_index"] = "_index"
    group.attrs["column-order"] = [str(c) for c in frame.columns]
    _encode(group.create_dataset("_index", data=np.array(index, dtype=object), dtype=_TEXT), "string-array")
    for column in frame.columns:
        _write_column(group, str(column), frame[column])


def _write_column(group: h5py.Group, name: str, values: pd.Series) -> None:
    """One ``obs`` column in the AnnData encoding of its type; text (and anything else) as a categorical."""
    is_bool = pd.api.types.is_bool_dtype(values)
    if is_bool or pd.api.types.is_integer_dtype(values):
        kind = bool if is_bool else np.int64
        if values.isna().any():
            sub = group.create_group(name)
            _encode(sub, "nullable-boolean" if is_bool else "nullable-integer")
            sub.create_dataset("values", data=values.fillna(0).to_numpy(dtype=kind))
            sub.create_dataset("mask", data=values.isna().to_numpy())
        else:
            _encode(group.create_dataset(name, data=values.to_numpy(dtype=kind)), "array")
        return
    if pd.api.types.is_float_dtype(values):
        _encode(group.create_dataset(name, data=values.to_numpy(dtype=np.float64)), "array")
        return
    categorical = pd.Categorical(values.astype(object).map(lambda v: None if pd.isna(v) else str(v)))
    sub = group.create_group(name)
    _encode(sub, "categorical")
    sub.attrs["ordered"] = False
    categories = np.array([str(c) for c in categorical.categories], dtype=object)
    _encode(sub.create_dataset("categories", data=categories, dtype=_TEXT), "string-array")
    _encode(sub.create_dataset("codes", data=categorical.codes.astype(np.int32)), "array")


def _write_uns(group: h5py.Group, values: Mapping[str, Any]) -> None:
    """Plain JSON values into an AnnData ``dict``: text, numbers, lists of either, nested mappings; None left out."""
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            sub = group.create_group(key)
            _encode(sub, "dict")
            _write_uns(sub, value)
        elif isinstance(value, str):
            _encode(group.create_dataset(key, data=value, dtype=_TEXT), "string")
        elif isinstance(value, bool | int | float):
            _encode(group.create_dataset(key, data=value), "numeric-scalar")
        elif all(isinstance(v, str) for v in value):
            _encode(group.create_dataset(key, data=np.array(list(value), dtype=object), dtype=_TEXT), "string-array")
        else:
            _encode(group.create_dataset(key, data=np.asarray(value)), "array")


def read_h5ad(path: str | Path) -> tuple[pd.DataFrame, np.ndarray, list[str], dict[str, Any]]:
    """Read an AnnData file written by :func:`write_h5ad` (or by anndata, with the same encodings).

    Returns
    -------
    (metadata, features, names, provenance)
        The ``obs`` columns (categoricals back as text), ``X`` as float32 ``(N, D)``, the ``var_names``, and the
        provenance record of ``uns["provenance"]`` ({} without one).

    Raises
    ------
    ValueError
        Naming the file and the column: an ``obs`` column in an encoding not read here, or ``X`` not dense.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"profile file not found: {path}")
    with h5py.File(path, "r") as root:
        if not isinstance(root.get("X"), h5py.Dataset):
            raise ValueError(f"{path}: X is not a dense array (sparse features are not profiles)")
        features = root["X"][...].astype(np.float32)
        obs = root["obs"]
        columns = [str(c) for c in obs.attrs.get("column-order", [])]
        metadata = pd.DataFrame({c: _read_column(obs[c], source=f"{path}: obs column {c}") for c in columns})
        var = root["var"]
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in var[var.attrs["_index"]][...]]
        record = root.get("uns/provenance")
        provenance = (
            {} if record is None else json.loads(record[()].decode() if isinstance(record[()], bytes) else record[()])
        )
    return metadata, features, names, provenance


def _read_column(node: h5py.Group | h5py.Dataset, *, source: str) -> pd.Series | np.ndarray:
    encoding = node.attrs.get("encoding-type", "array")
    if encoding == "array":
        return node[...]
    if encoding == "string-array":
        return pd.Series(list(node.asstr()[...]))
    if encoding == "categorical":
        categories = np.asarray(node["categories"].asstr()[...], dtype=object)
        codes = node["codes"][...]
        return pd.Series(np.where(codes >= 0, categories[np.clip(codes, 0, None)], None).tolist())
    if encoding in ("nullable-integer", "nullable-boolean"):
        kind = "boolean" if encoding == "nullable-boolean" else "Int64"
        return pd.Series(pd.array(node["values"][...], dtype=kind)).mask(node["mask"][...])
    raise ValueError(f"{source}: encoding {encoding!r} is not read here")
