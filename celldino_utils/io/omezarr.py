"""OME-Zarr (NGFF 0.4 and 0.5) images and high-content-screening plates, read with zarr: their axes, channel labels,
full-resolution pixels, and the fields of a plate. zarr is imported on first use (only OME-Zarr needs it)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from celldino_utils.io.hpa import PATHS_COLUMN


def _zarr() -> Any:
    """The zarr package, imported on first use (OME-Zarr only)."""
    return importlib.import_module("zarr")


def is_zarr(path: Path) -> bool:
    """Whether ``path`` lies in an OME-Zarr store (a folder ``*.zarr`` or one of its groups)."""
    return any(part.lower().endswith(".zarr") for part in path.parts)


def check_planar(path: Path, sizes: Mapping[str, int]) -> None:
    """Raise ValueError naming ``path`` unless it holds one Z plane and one time point."""
    extra = {axis.upper(): int(n) for axis, n in sizes.items() if axis in ("t", "z") and int(n) != 1}
    if extra:
        raise ValueError(f"{path}: holds {extra} planes; the images format reads 2-D fields (one Z plane, one time)")


def zarr_header(path: Path) -> tuple[tuple[str | None, ...], tuple[int, int]]:
    """Channel labels (None where the store names none) and ``(H, W)`` of an OME-Zarr image group; no pixels read."""
    axes, shape, labels, _ = _zarr_image(path)
    sizes = dict(zip(axes, shape, strict=True))
    check_planar(path, sizes)
    names = labels if len(labels) == sizes.get("c", 1) else [None] * sizes.get("c", 1)
    return tuple(names), (sizes["y"], sizes["x"])


def read_zarr_planes(path: Path) -> np.ndarray:
    """The full-resolution pixels of an OME-Zarr image group as ``(C, H, W)``, in the store's dtype."""
    axes, _, _, array = _zarr_image(path)
    check_planar(path, dict(zip(axes, array.shape, strict=True)))
    data = np.squeeze(np.asarray(array[...]), axis=tuple(i for i, a in enumerate(axes) if a not in "cyx"))
    kept = [a for a in axes if a in "cyx"]
    planes = np.transpose(data, [kept.index(a) for a in "cyx" if a in kept])
    return planes if "c" in kept else planes[None]


def _zarr_attrs(path: Path) -> dict[str, Any]:
    """The OME attributes of a zarr group (NGFF 0.4 keeps them at the top level, 0.5 under ``ome``)."""
    try:
        attrs = dict(_zarr().open_group(str(path), mode="r").attrs)
    except (FileNotFoundError, ValueError, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"unreadable OME-Zarr group {path}: {err}") from err
    return dict(attrs.get("ome", attrs))


def _zarr_image(path: Path) -> tuple[list[str], tuple[int, ...], list[str], Any]:
    """Axes (lower case), shape, channel labels and full-resolution array of an OME-Zarr image group."""
    attrs = _zarr_attrs(path)
    if "multiscales" not in attrs:
        raise ValueError(f"{path}: an OME-Zarr group without multiscales is not an image (a plate or well?)")
    multiscale = attrs["multiscales"][0]
    axes = [str(a["name"] if isinstance(a, dict) else a).lower() for a in multiscale.get("axes", list("tczyx"))]
    array = _zarr().open_group(str(path), mode="r")[multiscale["datasets"][0]["path"]]
    if len(axes) != array.ndim or "y" not in axes or "x" not in axes:
        raise ValueError(f"{path}: axes {axes} do not describe its array of shape {array.shape}")
    labels = [str(c.get("label")) for c in attrs.get("omero", {}).get("channels", []) if c.get("label")]
    return axes, tuple(int(n) for n in array.shape), labels, array


def plate_fields(store: Path) -> list[dict[str, Any]] | None:
    """One row per field of an OME-Zarr plate (``Metadata_Plate``, ``Metadata_Well``, ``Metadata_Site``); None
    when the store is an image, not a plate."""
    attrs = _zarr_attrs(store)
    if "plate" not in attrs:
        return None
    plate = attrs["plate"]
    name = str(plate.get("name") or store.name.split(".")[0])
    rows = []
    for well in plate.get("wells", []):
        well_path = store / well["path"]
        for site, image in enumerate(_zarr_attrs(well_path).get("well", {}).get("images", [])):
            well_name = well["path"].replace("/", "")
            rows.append(
                {
                    "Metadata_Id": f"{name}_{well_name}_{site}",
                    "Metadata_Plate": name,
                    "Metadata_Well": well_name,
                    "Metadata_Site": site,
                    "Metadata_File": f"{store.name}/{well['path']}/{image['path']}",
                    PATHS_COLUMN: (well_path / image["path"],),
                }
            )
    if not rows:
        raise ValueError(f"{store}: an OME-Zarr plate without fields")
    return rows
