"""The ``images`` format: fields of view in any file format bioio reads, their channels named by the data.

Fields come from either

- a folder of multi-channel files (OME-TIFF, CZI, ND2, LIF, plain TIFF and PNG through bioio and its plugins;
  OME-Zarr images and high-content-screening plates through zarr): each file, or each field of a plate, is one
  field, its channels named by its metadata (OME ``Channel Name``, the OME-Zarr ``omero`` labels), or by
  ``channel_names`` where the files name none; or
- a CSV index (``index_csv``), the CellProfiler ``load_data.csv`` convention generalised: one row per field,
  ``Metadata_*`` columns and one ``FileName_<channel>`` column per channel (optionally ``PathName_<channel>``),
  with any channel names; each of those files holds one channel.

Every field's header is read while indexing, so a field whose channels differ from the first field's, a file
that holds more than one plane per channel (Z or T), or one that no installed reader takes is named before any
pixel is read. bioio chooses a reader by file among its installed plugins (OME-TIFF, TIFF, PNG, CZI, ND2 and LIF
come with the companion); a file of several scenes is refused, one field per file.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from celldino_utils.io.cellpainting import resolve_file
from celldino_utils.io.channels import IMAGES, ChannelLayout, get_layout, named_layout
from celldino_utils.io.hpa import PATHS_COLUMN
from celldino_utils.io.images import to_unit_float
from celldino_utils.io.omezarr import check_planar, is_zarr, plate_fields, read_zarr_planes, zarr_header
from celldino_utils.io.tables import read_csv, require_columns

#: Where :func:`read_images` leaves the channel names of its index: ``index.attrs[CHANNELS_ATTR]``.
CHANNELS_ATTR = "channels"
#: Suffixes of the field files a folder is searched for (an OME-Zarr store is a folder ending in ``.zarr``).
FIELD_SUFFIXES = (".ome.tiff", ".ome.tif", ".tiff", ".tif", ".png", ".czi", ".nd2", ".lif", ".ome.zarr", ".zarr")
FILENAME_PREFIX, PATHNAME_PREFIX = "FileName_", "PathName_"
#: Keys a CSV index's ``Metadata_Id`` is made of when it has none (``plate_well_site``).
ID_KEYS = ("Metadata_Plate", "Metadata_Well", "Metadata_Site")
#: The names bioio gives channels that a file does not name (``Channel:0:1``).
_UNNAMED = re.compile(r"^Channel:\d+(:\d+)?$")


@dataclass(frozen=True)
class FieldHeader:
    """What a field file's header says: its channel names (None where it names none) and its ``(H, W)``."""

    channels: tuple[str | None, ...]
    size: tuple[int, int]


def _bioio() -> Any:
    """The bioio package, imported on first use: it and its plugins' metadata models take seconds to import."""
    return importlib.import_module("bioio")


def read_header(path: Path) -> FieldHeader:
    """The channel names and size of one field file (or OME-Zarr image group), no pixels read.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Naming the file: no installed reader takes it, it holds several scenes, or more than one Z plane or
        time point.
    """
    if not path.exists():
        raise FileNotFoundError(f"image file not found: {path}")
    if is_zarr(path):
        names, size = zarr_header(path)
        return FieldHeader(names, size)
    image = _open_bioimage(path)
    dims = image.dims
    check_planar(path, {"t": dims.T, "z": dims.Z})
    if _samples(path, image) > 1:
        return FieldHeader((None,) * _samples(path, image), (int(dims.Y), int(dims.X)))
    names = tuple(None if _UNNAMED.match(str(n)) else str(n) for n in image.channel_names)
    return FieldHeader(names, (int(dims.Y), int(dims.X)))


def _samples(path: Path, image: Any) -> int:
    """Samples per pixel of an image read by bioio (3 for an RGB PNG, whose colours are its channels); 1 for most."""
    samples = int(getattr(image.dims, "S", 1)) if "S" in image.dims.order else 1
    if samples > 1 and image.dims.C > 1:
        raise ValueError(f"{path}: holds {image.dims.C} channels of {samples} samples each; expected one or the other")
    return samples


def read_planes(path: Path) -> np.ndarray:
    """The pixels of one field file as ``(C, H, W)``, in the file's dtype (see :func:`read_header` for errors)."""
    if is_zarr(path):
        return read_zarr_planes(path)
    image = _open_bioimage(path)
    check_planar(path, {"t": image.dims.T, "z": image.dims.Z})
    try:
        if _samples(path, image) > 1:
            return np.asarray(image.get_image_data("SYX", T=0, Z=0, C=0))
        return np.asarray(image.get_image_data("CYX", T=0, Z=0))
    except Exception as err:  # the plugins raise errors of their own types on corrupt pixel data
        raise ValueError(f"unreadable image file {path}: {err}") from err


def load_images_field(paths: Sequence[Path], *, n_channels: int) -> np.ndarray:
    """One field of the ``images`` format as float32 ``(C, H, W)`` in [0, 1]: one file of ``n_channels``
    channels, or ``n_channels`` files of one channel each (of one size)."""
    if len(paths) == 1:
        planes = read_planes(paths[0])
    else:
        stack = [read_planes(path) for path in paths]
        for path, plane in zip(paths, stack, strict=True):
            if plane.shape != (1, *stack[0].shape[1:]):
                raise ValueError(f"{path}: expected one channel of size {stack[0].shape[1:]}, got shape {plane.shape}")
        planes = np.concatenate(stack)
    if planes.shape[0] != n_channels:
        raise ValueError(f"{paths[0]}: expected {n_channels} channels, got shape {planes.shape}")
    return to_unit_float(np.ascontiguousarray(planes), source=str(paths[0]))


def read_images(
    data_dir: str | Path,
    *,
    index_csv: str | None = None,
    channel_names: Sequence[str] | str | None = None,
    channel_map: Mapping[str, str] | None = None,
    metadata_csv: str | None = None,
) -> pd.DataFrame:
    """Index the fields of an ``images`` data set, one row per field, every header read and checked.

    Parameters
    ----------
    data_dir
        The folder of the field files (searched for :data:`FIELD_SUFFIXES`, not in subfolders), or of
        ``index_csv``; relative ``PathName_*`` and ``FileName_*`` values are resolved against it.
    index_csv
        A CSV index (one row per field, ``Metadata_*`` and ``FileName_<channel>`` columns) instead of a folder.
    channel_names
        The names of the channels of files that name none, in file order (a list, or text separated by
        commas); files that name theirs must agree.
    channel_map
        Name for the model -> name in the data, e.g. ``{"nucleus": "Hoechst 33342"}``; the data's other
        channels keep their names.
    metadata_csv
        A table under ``data_dir`` with ``Metadata_Id`` and other ``Metadata_*`` columns (a platemap: well,
        treatment...), joined on ``Metadata_Id``; every field must have a row.

    Returns
    -------
    pandas.DataFrame
        ``Metadata_Id`` and the ``Metadata_*`` columns (a folder gives ``Metadata_File``, a plate
        ``Metadata_Plate``, ``Metadata_Well`` and ``Metadata_Site``), ``_paths`` (the files of each field), and
        in ``attrs["channels"]`` the channel names, in the order the fields hold them.

    Raises
    ------
    ValueError, FileNotFoundError
        Naming the file, column or parameter: no field, a field whose channels differ from the first's, an
        unnamed channel, a file no reader takes, a channel of ``channel_map`` the data lack.
    """
    data_dir = Path(data_dir)
    if isinstance(channel_names, str):
        channel_names = [name.strip() for name in channel_names.split(",")]
    if index_csv is not None:
        if channel_names is not None:
            raise ValueError(f"channel_names: the channels of {index_csv} are named by its FileName_<channel> columns")
        index, channels = _csv_fields(data_dir / index_csv)
    else:
        index, channels = _folder_fields(data_dir, channel_names)
    if metadata_csv is not None:
        index = _join_metadata(index, data_dir / metadata_csv)
    index = index.reset_index(drop=True)
    index.attrs[CHANNELS_ATTR] = _mapped(channels, channel_map, source=str(data_dir))
    return index


def index_layout(format: str, index: pd.DataFrame) -> ChannelLayout:
    """The channel layout of an index of ``format``: the format's own, or (``images``) the one :func:`read_images`
    found in its files."""
    return named_layout(index.attrs[CHANNELS_ATTR]) if format == IMAGES else get_layout(format)


def _folder_fields(data_dir: Path, channel_names: Sequence[str] | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """One row per field file (each field of a plate) of ``data_dir``, and the channel names they share."""
    rows: list[dict[str, Any]] = []
    for path in sorted(data_dir.iterdir()):
        suffix = next((s for s in FIELD_SUFFIXES if path.name.lower().endswith(s)), None)
        if suffix is None or (suffix != ".zarr" and suffix != ".ome.zarr" and not path.is_file()):
            continue
        plate = plate_fields(path) if suffix.endswith(".zarr") else None
        if plate is not None:
            rows.extend(plate)
        else:
            rows.append({"Metadata_Id": path.name[: -len(suffix)], "Metadata_File": path.name, PATHS_COLUMN: (path,)})
    if not rows:
        raise FileNotFoundError(f"{data_dir}: no field files (any of {', '.join(FIELD_SUFFIXES)})")
    first: tuple[str, ...] | None = None
    for row in rows:
        path = row[PATHS_COLUMN][0]
        names = _named(path, read_header(path).channels, channel_names)
        if first is None:
            first, first_path = names, path
        elif names != first:
            raise ValueError(f"{path}: channels {list(names)} differ from those of {first_path}: {list(first)}")
    return pd.DataFrame(rows), first


def _named(path: Path, found: tuple[str | None, ...], given: Sequence[str] | None) -> tuple[str, ...]:
    """A file's channel names: those of its metadata, checked against ``given``, or ``given`` where it has none."""
    if given is not None and len(given) != len(found):
        raise ValueError(f"{path}: holds {len(found)} channels, channel_names gives {len(given)}: {list(given)}")
    if all(name is not None for name in found):
        if given is not None and tuple(given) != found:
            raise ValueError(
                f"{path}: its metadata names its channels {list(found)}, not {list(given)} as channel_names says; "
                "rename channels with channel_map"
            )
        return tuple(str(name) for name in found)
    if given is None:
        raise ValueError(
            f"{path}: its metadata does not name its {len(found)} channels; give them in order with channel_names"
        )
    return tuple(given)


def _csv_fields(source: Path) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """One row per field of a CSV index, with one file per ``FileName_<channel>`` column, headers checked."""
    table = read_csv(source)
    channels = tuple(str(c)[len(FILENAME_PREFIX) :] for c in table.columns if str(c).startswith(FILENAME_PREFIX))
    if not channels:
        raise ValueError(f"{source}: no FileName_<channel> column; its columns are {list(table.columns)}")
    index = table[[c for c in table.columns if str(c).startswith("Metadata_")]].copy()
    if "Metadata_Id" not in index:
        keys = [k for k in ID_KEYS if k in index]
        if not keys:
            raise ValueError(f"{source}: needs a Metadata_Id column, or some of {list(ID_KEYS)} to make one")
        index.insert(0, "Metadata_Id", index[keys].astype(str).agg("_".join, axis=1))
    repeated = index["Metadata_Id"].duplicated()
    if repeated.any():
        raise ValueError(f"{source}: Metadata_Id repeated, e.g. {index.loc[repeated, 'Metadata_Id'].iloc[0]!r}")
    columns = []
    for channel in channels:
        names = table[f"{FILENAME_PREFIX}{channel}"]
        blank = names.isna() | (names.astype(str).str.strip() == "")
        if blank.any():
            raise ValueError(f"{source}: {int(blank.sum())} row(s) without a file in {FILENAME_PREFIX}{channel}")
        folders = table.get(f"{PATHNAME_PREFIX}{channel}", pd.Series("", index=table.index)).fillna("")
        columns.append(
            [resolve_file(folder, name, root=source.parent) for folder, name in zip(folders, names, strict=True)]
        )
    paths = list(zip(*columns, strict=True))
    for field_id, files in zip(index["Metadata_Id"], paths, strict=True):
        sizes = []
        for channel, path in zip(channels, files, strict=True):
            header = read_header(path)
            if len(header.channels) != 1:
                raise ValueError(
                    f"{path}: {FILENAME_PREFIX}{channel} of {field_id} holds {len(header.channels)} channels, not 1"
                )
            sizes.append(header.size)
        if len(set(sizes)) > 1:
            raise ValueError(
                f"{source}: the channel files of {field_id} differ in size: {dict(zip(channels, sizes, strict=True))}"
            )
    index[PATHS_COLUMN] = paths
    return index, channels


def _join_metadata(index: pd.DataFrame, source: Path) -> pd.DataFrame:
    """``index`` with the ``Metadata_*`` columns of the table at ``source``, joined on ``Metadata_Id``."""
    table = read_csv(source)
    require_columns(table, ["Metadata_Id"], source=source)
    table = table[
        [c for c in table.columns if str(c).startswith("Metadata_") and (c == "Metadata_Id" or c not in index)]
    ]
    joined = index.merge(
        table.astype({"Metadata_Id": str}), on="Metadata_Id", how="left", indicator=True, validate="one_to_one"
    )
    lacking = joined.loc[joined["_merge"] == "left_only", "Metadata_Id"]
    if len(lacking):
        raise ValueError(f"{source}: no row for {len(lacking)} field(s), e.g. {lacking.head(3).tolist()}")
    return joined.drop(columns="_merge")


def _mapped(channels: tuple[str, ...], channel_map: Mapping[str, str] | None, *, source: str) -> tuple[str, ...]:
    """``channels`` with each data name of ``channel_map`` (ours -> theirs) replaced by ours."""
    theirs_to_ours = {theirs: ours for ours, theirs in (channel_map or {}).items()}
    lacking = sorted(set(theirs_to_ours) - set(channels))
    if lacking:
        raise ValueError(f"channel_map: {source} has no channel {lacking}; its channels are {list(channels)}")
    renamed = tuple(theirs_to_ours.get(name, name) for name in channels)
    twice = sorted({name for name in renamed if renamed.count(name) > 1})
    if twice:
        raise ValueError(f"channel_map: {source} would have channel(s) {twice} twice: {list(renamed)}")
    return renamed


@contextmanager
def _quiet_reader_trials() -> Iterator[None]:
    """Hold back bioio's warning for each reader that declines a file (an OME-TIFF reader declines every plain
    TIFF); when no reader takes it, the error raised says why each declined."""
    logger = logging.getLogger("bioio.bio_image")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _open_bioimage(path: Path) -> Any:
    """``bioio.BioImage(path)`` with one scene, or a ValueError naming the file and the readers' reasons."""
    try:
        with _quiet_reader_trials():
            image = _bioio().BioImage(path)
        scenes = image.scenes
    except Exception as err:  # each plugin raises its own types; the message says which readers refused and why
        raise ValueError(f"unreadable image file {path}: no installed bioio reader takes it ({err})") from err
    if len(scenes) > 1:
        raise ValueError(f"{path}: holds {len(scenes)} scenes; the images format reads one field per file")
    return image
