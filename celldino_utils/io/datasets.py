"""torch Datasets of fields of view and of single cells, over any supported format.

``open_fields`` and ``open_cells`` (or ``open_images``, either by level) are the one entry point that every stage
(training, embedding, baseline features, figures) uses to read images: the
same code reads synthetic and real data.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from celldino_utils.io.bioimages import index_layout, load_images_field, read_header, read_images
from celldino_utils.io.cellpainting import CENTRE_COLUMNS, SITE_KEYS, read_cellpainting
from celldino_utils.io.channels import FORMATS, IMAGES, ChannelLayout, channel_positions
from celldino_utils.io.crops import cell_centres, crop_around, crop_cell, native_crop_side, resize_crop
from celldino_utils.io.files import CELL_MASK_SUFFIX, MASK_DIR, NUCLEI_CSV
from celldino_utils.io.hpa import PATHS_COLUMN, read_hpa_fov, read_hpa_kaggle
from celldino_utils.io.images import image_shape, read_image, stack_channels, to_unit_float
from celldino_utils.io.nuclei import read_nucleus_centres
from celldino_utils.io.photographs import read_photographs

_INDEXERS = {
    "hpa-kaggle": read_hpa_kaggle,
    "hpa-fov": read_hpa_fov,
    "cellpainting": read_cellpainting,
    "photographs": read_photographs,
    IMAGES: read_images,
}


def read_index(format: str, data_dir: str | Path, **options: object) -> pd.DataFrame:
    """Index a data set of the given format (one row per field, ``Metadata_*`` columns and ``_paths``).

    ``options`` go to the format's reader (``labels_csv``, ``metadata_csv``, ``load_data_csv``, ``platemap_csv``,
    ``channel_map``, ``index_csv``, ``channel_names``...); one it does not take is refused, naming the ones it does.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown data format {format!r}; choose one of {list(FORMATS)}")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data folder not found: {data_dir}")
    reader = _INDEXERS[format]
    accepted = [name for name in inspect.signature(reader).parameters if name != "data_dir"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"{format}: unknown read option(s) {unknown}; the {format} reader takes {accepted}")
    return reader(data_dir, **options)


def load_field(paths: tuple[Path, ...], *, layout: ChannelLayout) -> np.ndarray:
    """Read one field as float32 ``(C, H, W)`` in [0, 1], channels in ``layout`` order.

    ``paths`` is one file per channel in ``layout`` order, or one multi-channel file. The order
    of per-channel files is checked against their names when the layout is tagged by file name
    (HPA ``_red``, ``_green``...); Cell Painting files are taken in the order the index's
    ``FileName_Orig*`` columns gave them, whatever their names.
    """
    if layout.format == IMAGES:
        return load_images_field(paths, n_channels=layout.n_channels)
    if len(paths) == layout.n_channels:
        if layout.tagged_by == "file name":
            layout.check_order([_channel_of(p, layout) for p in paths], source=str(paths[0].parent))
        return stack_channels(list(paths), source=str(paths[0]))
    if len(paths) != 1:
        raise ValueError(
            f"{paths[0]}: expected {layout.n_channels} channel files or one multi-channel file, got {len(paths)}"
        )
    array = read_image(paths[0])
    if _channels_last(array.shape, layout.n_channels):
        array = np.moveaxis(array, -1, 0)
    if array.ndim != 3 or array.shape[0] != layout.n_channels:
        raise ValueError(
            f"{paths[0]}: expected {layout.n_channels} channels ({', '.join(layout.channels)}), got shape {array.shape}"
        )
    return to_unit_float(np.ascontiguousarray(array), source=str(paths[0]))


def _channels_last(shape: tuple[int, ...], n_channels: int) -> bool:
    """Whether a multi-channel file of array shape ``shape`` holds its channels on the last axis ``(H, W, C)``."""
    return len(shape) == 3 and shape[-1] == n_channels and shape[0] != n_channels


def field_size(paths: tuple[Path, ...], *, layout: ChannelLayout) -> tuple[int, int]:
    """``(height, width)`` of the field :func:`load_field` reads from ``paths``, from the first file's header alone."""
    if layout.format == IMAGES:
        return read_header(paths[0]).size
    shape = image_shape(paths[0])
    if len(paths) == 1 and _channels_last(shape, layout.n_channels):
        return shape[0], shape[1]
    return shape[-2], shape[-1]


def _channel_of(path: Path, layout: ChannelLayout) -> str:
    """The channel a file belongs to, from the tag in its name (``_green``, ``_DNA``...)."""
    stem = path.name.split(".")[0]
    for name, tag in zip(layout.channels, layout.file_tags, strict=True):
        if stem.endswith(f"_{tag}") or stem.endswith(f"-{tag}") or stem == tag:
            return name
    return f"unknown channel ({path.name})"


#: Decoded fields a :class:`FieldDataset` keeps in memory by default, in MiB (per process: each data-loading
#: worker holds its own). Training, fine-tuning and single-cell crops come back to the same fields again and
#: again; decoding their files each time took most of a Cell Painting fine-tune's time on a CPU.
FIELD_CACHE_MIB = 512


class FieldDataset(Dataset):
    """Fields of view: item ``i`` is a float32 tensor ``(C, H, W)`` in [0, 1].

    The fields read last are kept decoded, up to ``cache_mib`` (least recently used first out); every item is a
    copy, so a caller that changes it in place does not change what the next read returns.

    Parameters
    ----------
    index
        One row per field: ``Metadata_*`` columns and ``_paths`` (files in ``layout`` order).
    layout
        The format's channel layout: the order its reader stacks channels in.
    channels
        The channel names in the order the items hold them (a model's order,
        :meth:`ChannelLayout.reordered`); None: ``layout`` order.
    cache_mib
        Memory for decoded fields, MiB; 0 decodes every read.

    Attributes
    ----------
    layout : ChannelLayout
        Channel names and order of every item.
    metadata : pandas.DataFrame
        One row per field, ``Metadata_*`` columns only.
    """

    def __init__(
        self,
        index: pd.DataFrame,
        *,
        layout: ChannelLayout,
        channels: tuple[str, ...] | list[str] | None = None,
        cache_mib: float = FIELD_CACHE_MIB,
    ) -> None:
        if not cache_mib >= 0:
            raise ValueError(f"cache_mib must be a number of MiB >= 0, got {cache_mib!r}")
        self.layout = layout if channels is None else layout.reordered(channels)
        self.metadata = index.drop(columns=[PATHS_COLUMN]).reset_index(drop=True)
        self._paths = list(index[PATHS_COLUMN])
        self._read_layout = layout
        positions = channel_positions(layout.channels, self.layout.channels, source=layout.format)
        self._positions = None if positions == tuple(range(layout.n_channels)) else list(positions)
        self._cache_bytes = int(cache_mib * 2**20)
        self._decoded: OrderedDict[int, np.ndarray] = OrderedDict()
        self._held = 0  # bytes in _decoded

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        kept = self._decoded.get(i)
        if kept is not None:
            self._decoded.move_to_end(i)
            return torch.from_numpy(kept.copy())
        image = load_field(self._paths[i], layout=self._read_layout)
        image = image if self._positions is None else image[self._positions]
        return torch.from_numpy(image.copy() if self._keep(i, image) else image)

    def _keep(self, i: int, image: np.ndarray) -> bool:
        """Add a decoded field to the cache, dropping the least recently read ones beyond its size; False if it is
        larger than the whole cache (a field of several thousand pixels with a small cache), and not kept."""
        if image.nbytes > self._cache_bytes:
            return False
        self._decoded[i] = image
        self._held += image.nbytes
        while self._held > self._cache_bytes:
            _, dropped = self._decoded.popitem(last=False)
            self._held -= dropped.nbytes
        return True

    def __getstate__(self) -> dict[str, object]:
        """Pickled (for a data-loading worker) without the decoded fields: each process fills its own cache."""
        return {**self.__dict__, "_decoded": OrderedDict(), "_held": 0}

    def field_size(self, i: int) -> tuple[int, int]:
        """``(height, width)`` of field ``i``, from its image header (no pixels read)."""
        return field_size(self._paths[i], layout=self._read_layout)


def open_fields(
    format: str,
    data_dir: str | Path,
    *,
    channels: tuple[str, ...] | list[str] | None = None,
    index: pd.DataFrame | None = None,
    cache_mib: float = FIELD_CACHE_MIB,
    **options: object,
) -> FieldDataset:
    """Open the fields of view of a data set (``hpa-kaggle``, ``hpa-fov``, ``cellpainting``, ``photographs`` or
    ``images``).

    ``channels`` gives the order of the items' channels by name (each of the data's channels once; a model's
    order); None keeps the data's order. ``index``: the data set's :func:`read_index`, if read already; else it is
    read here with ``options``, e.g. ``platemap_csv`` for Cell Painting or ``index_csv`` for ``images``.
    ``cache_mib``: memory for decoded fields (:class:`FieldDataset`). The first field's files are decoded at once
    (:func:`_check_first_field`), so a file that cannot be read is named before any run starts.
    """
    if index is None:
        index = read_index(format, data_dir, **options)
    elif options:
        raise ValueError(f"open_fields: options {sorted(options)} are the index reader's; give them to read_index")
    fields = FieldDataset(index, layout=index_layout(format, index), channels=channels, cache_mib=cache_mib)
    _check_first_field(fields, source=f"{format} data set {data_dir}")
    return fields


def _check_first_field(fields: FieldDataset, *, source: str) -> None:
    """Decode the first field's files, one per channel (or its one multi-channel file), naming any that fails.

    One image per channel keeps the check cheap on any size of data set, while it catches what is usually
    true of every file of a channel: a compression without a codec, a format that is not an image.

    Raises
    ------
    ValueError, FileNotFoundError
        ``source``, the channel and the file (with the reader's reason) of the first file that cannot be read.
    """
    if len(fields) == 0:
        return
    layout, paths = fields._read_layout, fields._paths[0]
    if layout.format == IMAGES:
        load_field(paths, layout=layout)
        return
    for k, path in enumerate(paths):
        per_channel = len(paths) == layout.n_channels
        channel = f"channel {layout.channels[k]}" if per_channel else f"channels {', '.join(layout.channels)}"
        try:
            read_image(path)
        except (ValueError, FileNotFoundError) as err:
            raise type(err)(f"{source}: the first image of {channel} cannot be read: {err}") from err


class CellDataset(Dataset):
    """Single-cell crops: item ``i`` is a float32 tensor ``(C, crop_size, crop_size)`` in [0, 1].

    Crops come from segmentation masks (HPA: the pixels of other cells are zeroed) or
    from nucleus centres (Cell Painting). ``metadata`` has one row per cell: the field's
    ``Metadata_*`` columns plus ``Metadata_cell_id``, ``Metadata_center_x``, ``Metadata_center_y``
    (native pixels of the field).

    With ``field_px`` (the shorter side of the fields a model was trained on), ``crop_size`` is in
    pixels of that scale: a cell of a field whose shorter side is ``S`` is cut at
    ``round(crop_size * S / field_px)`` native pixels around its centre, masked, then resized to
    ``crop_size`` (bilinear, antialiased), field by field. Without it, crops are ``crop_size`` native pixels.

    Attributes
    ----------
    fields : FieldDataset
        The fields the cells are cut from.
    field_of_cell : numpy.ndarray
        ``(N,)`` int: the position in ``fields`` of each cell's field.
    """

    def __init__(
        self,
        fields: FieldDataset,
        cells: pd.DataFrame,
        *,
        crop_size: int,
        mask_paths: list[Path] | None,
        field_px: int | None = None,
    ) -> None:
        self.fields = fields
        self.crop_size = crop_size
        self.field_px = field_px
        self._mask_paths = mask_paths
        self.field_of_cell = cells["field"].to_numpy()
        self._cells = cells[["cell_id", "center_x", "center_y"]].to_numpy()
        field_meta = fields.metadata.iloc[self.field_of_cell].reset_index(drop=True)
        self.metadata = pd.concat(
            [field_meta, cells[["cell_id", "center_x", "center_y"]].add_prefix("Metadata_").reset_index(drop=True)],
            axis=1,
        )
        self._cached: tuple[int, np.ndarray, np.ndarray | None] | None = None

    @property
    def layout(self) -> ChannelLayout:
        return self.fields.layout

    def __len__(self) -> int:
        return len(self.field_of_cell)

    def _field(self, f: int) -> tuple[np.ndarray, np.ndarray | None]:
        if self._cached is None or self._cached[0] != f:
            image = self.fields[f].numpy()
            labels = read_image(self._mask_paths[f]) if self._mask_paths is not None else None
            self._cached = (f, image, labels)
        return self._cached[1], self._cached[2]

    def __getitem__(self, i: int) -> torch.Tensor:
        image, labels = self._field(int(self.field_of_cell[i]))
        cell_id, x, y = self._cells[i]
        side = native_crop_side(self.crop_size, field_side=min(image.shape[-2:]), field_px=self.field_px)
        if labels is None:
            crop = crop_around(image, center_x=x, center_y=y, size=side)
        else:
            crop = crop_cell(image, labels, cell_id=int(cell_id), center_x=x, center_y=y, size=side)
        return torch.from_numpy(resize_crop(crop, size=self.crop_size))


def open_cells(
    format: str,
    data_dir: str | Path,
    *,
    crop_size: int,
    field_px: int | None = None,
    mask_dir: str = MASK_DIR,
    mask_suffix: str = CELL_MASK_SUFFIX,
    nuclei: str = NUCLEI_CSV,
    **options: object,
) -> CellDataset:
    """Open single cells: HPA, ``images`` from the masks ``mask_dir/{Id}{mask_suffix}``, Cell Painting from ``nuclei``.

    ``nuclei`` names the nucleus tables under ``data_dir``: ``nuclei.csv``, or the CellProfiler SQLite of each
    plate (a glob pattern, e.g. ``backend/*/*/*.sqlite``) or CytoTable Parquet, read by
    :func:`celldino_utils.io.nuclei.read_nucleus_centres` (key and location columns only, file by file).

    ``crop_size`` is the side of every crop; with ``field_px`` it counts pixels at the scale of fields whose
    shorter side is ``field_px`` (a model's training scale, see :class:`CellDataset`), else native pixels.
    ``options`` go to :func:`open_fields` (``channels``, ``cache_mib``, and the options of the format's index reader).
    """
    if crop_size < 8:
        raise ValueError(f"crop_size must be at least 8 pixels, got {crop_size}")
    if field_px is not None and field_px < 1:
        raise ValueError(f"field_px must be a positive number of pixels, got {field_px}")
    fields = open_fields(format, data_dir, **options)
    if format == "cellpainting":
        cells = _centre_cells(fields, Path(data_dir), nuclei)
        return CellDataset(fields, cells, crop_size=crop_size, mask_paths=None, field_px=field_px)
    mask_paths = [Path(data_dir) / mask_dir / f"{image_id}{mask_suffix}" for image_id in fields.metadata["Metadata_Id"]]
    tables = []
    for f, path in enumerate(mask_paths):
        labels = read_image(path)
        if labels.shape != fields.field_size(f):
            raise ValueError(f"{path}: mask of shape {labels.shape}, but its field is {fields.field_size(f)} pixels")
        tables.append(cell_centres(labels).assign(field=f))
    cells = pd.concat(tables, ignore_index=True)
    return CellDataset(fields, cells, crop_size=crop_size, mask_paths=mask_paths, field_px=field_px)


#: What one row of a data set is: a whole field of view, or one single cell cut from it.
LEVELS: tuple[str, ...] = ("fov", "cell")


def open_images(
    format: str,
    data_dir: str | Path,
    *,
    level: str,
    crop_size: int | None = None,
    field_px: int | None = None,
    **options: object,
) -> FieldDataset | CellDataset:
    """The fields of ``data_dir`` (``level="fov"``), or its single cells (``level="cell"``, see :func:`open_cells`).

    ``crop_size`` and ``field_px`` are the single-cell options of :func:`open_cells` (ignored for fields);
    ``options`` go to :func:`open_fields` (``channels``, ``cache_mib``, and the options of the format's index reader).

    Raises
    ------
    ValueError
        Naming the parameter: an unknown level, or single cells without a crop size.
    """
    if level not in LEVELS:
        raise ValueError(f"level: unknown level {level!r}; choose one of {list(LEVELS)}")
    if level == "fov":
        return open_fields(format, data_dir, **options)
    if not crop_size:
        raise ValueError("crop_size: single cells need the side of their crops in pixels")
    return open_cells(format, data_dir, crop_size=int(crop_size), field_px=field_px, **options)


def _centre_cells(fields: FieldDataset, data_dir: Path, nuclei: str) -> pd.DataFrame:
    """One row per nucleus of ``nuclei`` (``field``, ``cell_id``, ``center_x``, ``center_y``), sites matched on
    their keys written as text (a plate or site may be a number in one table and text in another)."""
    centres = read_nucleus_centres(data_dir, nuclei=nuclei)
    keys = fields.metadata[list(SITE_KEYS)].astype(str).assign(field=np.arange(len(fields)))
    as_text = centres.astype(dict.fromkeys(SITE_KEYS, str))
    merged = as_text.merge(keys, on=list(SITE_KEYS), how="left", validate="many_to_one")
    orphans = merged["field"].isna()
    if orphans.any():
        example = merged.loc[orphans, list(SITE_KEYS)].head(1).values.tolist()
        count = int(orphans.sum())
        raise ValueError(f"{data_dir / nuclei}: {count} nuclei belong to no site of the index, e.g. {example}")
    merged = merged.sort_values(["field", "Metadata_ObjectNumber"], kind="stable")
    return pd.DataFrame(
        {
            "field": merged["field"].astype(int).to_numpy(),
            "cell_id": merged["Metadata_ObjectNumber"].astype(int).to_numpy(),
            "center_x": merged[CENTRE_COLUMNS[0]].to_numpy(float),
            "center_y": merged[CENTRE_COLUMNS[1]].to_numpy(float),
        }
    )


def crops_of(
    cells: CellDataset, selection: pd.DataFrame, *, keys: tuple[str, ...] = ("Metadata_Id", "Metadata_cell_id")
) -> np.ndarray:
    """The crops ``(N, C, size, size)`` of the cells listed in ``selection`` (matched on ``keys``), in its order."""
    position = pd.Series(np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells.metadata[list(keys)]))
    wanted = pd.MultiIndex.from_frame(selection[list(keys)])
    if wanted.empty:
        raise ValueError("crops_of: the selection lists no cell")
    missing = wanted.difference(position.index)
    if len(missing):
        raise KeyError(f"cells {list(missing[:3])} are not in the dataset")
    return np.stack([cells[int(i)].numpy() for i in position.loc[wanted]])


def sample_positions(n: int, sample: int) -> list[int]:
    """Up to ``sample`` positions spread evenly over ``range(n)``, first and last included, ascending."""
    if n <= sample:
        return list(range(n))
    return sorted({int(i) for i in np.linspace(0, n - 1, sample).round()})


def field_sizes(fields: Dataset, positions: list[int]) -> list[tuple[int, int]]:
    """``(height, width)`` of the fields at ``positions``: from image headers for a :class:`FieldDataset`,
    else from the items themselves (tensors ``(C, H, W)``)."""
    if isinstance(fields, FieldDataset):
        return [fields.field_size(i) for i in positions]
    return [tuple(int(n) for n in fields[i].shape[-2:]) for i in positions]


def typical_field_side(fields: Dataset, *, sample: int = 64) -> int:
    """Median shorter side (pixels) of up to ``sample`` fields spread over ``fields`` (see :func:`field_sizes`)."""
    if len(fields) == 0:
        raise ValueError("the data set has no fields to measure")
    sides = [min(size) for size in field_sizes(fields, sample_positions(len(fields), sample))]
    return int(round(float(np.median(sides))))
