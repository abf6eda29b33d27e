"""CellProfiler-style single-cell features with cp-measure: the hand-crafted baseline for Cell-DINO.

The supplement (recommendation 4) asks to compare Cell-DINO embeddings with simpler approaches such as
CellProfiler features. cp-measure re-implements CellProfiler's measurement modules in Python; this module
measures every cell of a data set with it and writes the result in the profile schema (``Metadata_*``
columns, then one column per feature), row for row aligned with ``open_cells(...).metadata`` so that
baseline and embeddings describe the same cells.

Columns follow CellProfiler's naming, ``Cells_{Measurement}_{Feature}_{Channel}[_{parameters}]``:
``Cells_Intensity_MeanIntensity_protein``, ``Cells_Texture_Contrast_DNA_3_00_256``,
``Cells_RadialDistribution_FracAtD_Mito_1of4``; shape features once, not per channel
(``Cells_AreaShape_Area``). Features that give the position of a cell in its field (``Location_*``,
``Center_X/Y``, ``BoundingBoxMinimum/Maximum_X/Y``) are left out: they describe where a cell was
imaged, not the cell, and would let a nearest-neighbour classifier match cells by position. So are the
moments that are NaN or 0 for every object by definition (``NormalizedMoment_0_0/0_1/1_0``,
``CentralMoment_0_1/1_0``).

Measurement set and its cost
----------------------------
CPU milliseconds per object, and per channel for the per-channel groups, with cp-measure 0.3.0 (numba
kernels for intensity and texture) on the default synthetic data (HPA: 128 px fields, 4-5 cells of about
1000 pixels; Cell Painting, as the timings were measured: 144 px sites, 8-20 cells of about 1000 pixels; the
default sites are now 96 px with 8-16 cells of about 300 pixels), and the features per channel
(per cell for shape groups) that are kept:

=========================  =========  =========  ========  ============================================
group                      HPA ms     CP ms      features  default
=========================  =========  =========  ========  ============================================
``intensity`` (numba)      0.10       0.09       15        yes
``texture`` (numba)        0.22       0.05       52        yes: Haralick, scale 3, 4 directions, 256 levels
``sizeshape``              1.3        0.9        67        yes, once per cell
``radial_distribution``    1.5        1.3        12        yes
``feret``                  0.4        0.2        2         no: two numbers, close to the axis lengths
``zernike``                0.9        0.5        30        no: more shape moments
``radial_zernikes``        0.9        0.5        60        no: 60 numbers per channel
``granularity``            2.3        1.0        16        no: the slowest per-channel group
=========================  =========  =========  ========  ============================================

cp-measure's own texture (mahotas) is slow per object and channel: the numba kernel, a drop-in replacement,
is what makes texture affordable. The default, ``intensity``, ``sizeshape``, ``texture`` and
``radial_distribution`` (CellProfiler's core: intensity, size and shape, texture at one scale, radial
distribution), spends most of its time on radial distribution, the group that carries most of the protein
localisation signal; texture and intensity carry most of the mechanism-of-action signal of Cell Painting.
The embedding chapter's report (its ``seconds`` column) says what it cost on a run.

Non-finite values
-----------------
cp-measure gives NaN where a feature is undefined: Haralick texture of an object with no pixel pair at
the texture scale in some direction, the radial CV of a ring with no pixel. :func:`fill_non_finite`
sets such values to 0 ("no measurable structure"), warns, and records the count per column in
``profiles.attrs["non_finite"]``; rows are never dropped.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from cp_measure.bulk import get_core_measurements
from cp_measure.core.numba.measureobjectintensity import get_intensity as _numba_intensity
from cp_measure.core.numba.measuretexture import get_texture as _numba_texture
from tqdm import tqdm

from celldino_utils.embed.segment import segment_from_centres
from celldino_utils.io.crops import window_start
from celldino_utils.io.datasets import FieldDataset, open_cells
from celldino_utils.io.files import CELL_MASK_SUFFIX, MASK_DIR, NUCLEI_CSV
from celldino_utils.io.images import read_image
from celldino_utils.io.profiles import feature_columns, to_profiles

#: Groups measured once per cell from its outline.
SHAPE_GROUPS = ("sizeshape", "zernike", "feret")
#: Groups measured in every channel.
CHANNEL_GROUPS = ("intensity", "texture", "granularity", "radial_distribution", "radial_zernikes")
#: The default measurement set (see the module docstring for the costs behind the choice).
DEFAULT_MEASUREMENTS = ("intensity", "sizeshape", "texture", "radial_distribution")

_PREFIX = "Cells"
# Left out: positions in the field, and moments that are undefined (NaN) or 0 for every object by definition.
_LEFT_OUT = re.compile(
    r"^(Location_|Center_[XY]$|BoundingBox(Minimum|Maximum)_[XY]$|NormalizedMoment_(0_0|0_1|1_0)$|CentralMoment_(0_1|1_0)$)"
)
_CATEGORY = {"sizeshape": "AreaShape", "zernike": "AreaShape", "feret": "AreaShape", "texture": "Texture"}


def measurement_functions() -> dict[str, Callable[..., dict[str, np.ndarray]]]:
    """cp-measure's core measurements by group name, with its numba intensity and texture kernels.

    Each function takes ``(labels (H, W) int, pixels (H, W) float)`` with labels contiguous ``1..N``
    and returns ``{feature: (N,) array}``.
    """
    functions = get_core_measurements(sanitize=False)
    return functions | {"intensity": _numba_intensity, "texture": _numba_texture}


def _column(group: str, feature: str, channel: str | None) -> str:
    """CellProfiler column name of one cp-measure feature of one channel (``None`` for shape groups)."""
    if channel is None:
        return f"{_PREFIX}_{_CATEGORY[group]}_{feature}"
    if group == "texture":  # "Contrast_3_00_256" -> "Texture_Contrast_DNA_3_00_256"
        name, parameters = feature.split("_", 1)
        return f"{_PREFIX}_Texture_{name}_{channel}_{parameters}"
    if group.startswith("radial"):  # "RadialDistribution_FracAtD_1of4" -> "..._FracAtD_DNA_1of4"
        category, name, parameters = feature.split("_", 2)
        return f"{_PREFIX}_{category}_{name}_{channel}_{parameters}"
    return f"{_PREFIX}_{feature}_{channel}"


def _dense_labels(labels: np.ndarray, object_ids: np.ndarray) -> np.ndarray:
    """Relabel ``labels`` so that ``object_ids[i]`` becomes ``i + 1`` and every other label 0."""
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 2-D integer array; got {labels.dtype} of shape {labels.shape}")
    if object_ids.ndim != 1 or len(object_ids) == 0 or (object_ids <= 0).any():
        raise ValueError(f"object_ids must be a non-empty 1-D list of positive labels; got {object_ids.tolist()}")
    duplicated = np.unique(object_ids[pd.Series(object_ids).duplicated().to_numpy()])
    if len(duplicated):
        raise ValueError(f"object_ids holds duplicated id(s) {duplicated.tolist()}")
    missing = object_ids[~np.isin(object_ids, labels)]
    if len(missing):
        raise ValueError(f"object id(s) {missing.tolist()} are not in the labels (no pixel carries them)")
    lookup = np.zeros(int(labels.max()) + 1, dtype=np.int32)
    lookup[object_ids] = np.arange(1, len(object_ids) + 1, dtype=np.int32)
    return lookup[labels]


def measure_cells(
    image: np.ndarray,
    labels: np.ndarray,
    *,
    channel_names: Sequence[str],
    object_ids: Sequence[int] | np.ndarray,
    measurements: Sequence[str] = DEFAULT_MEASUREMENTS,
) -> pd.DataFrame:
    """Measure CellProfiler features of the given objects of one field.

    Parameters
    ----------
    image
        ``(C, H, W)`` float image in [0, 1] (texture quantises [0, 1] to 256 grey levels).
    labels
        ``(H, W)`` integer label image, 0 = background.
    channel_names
        ``C`` names used in the column names.
    object_ids
        Labels to measure, in the order of the output rows; other labels are ignored.
    measurements
        cp-measure groups (:data:`SHAPE_GROUPS`, :data:`CHANNEL_GROUPS`).

    Returns
    -------
    pandas.DataFrame
        One row per object id, in the given order (index ``object_id``); one column per feature, named
        ``Cells_{Measurement}_{Feature}_{Channel}...`` (see the module docstring). Values are cp-measure's,
        NaN where a feature is undefined (see :func:`fill_non_finite`).

    Raises
    ------
    ValueError
        If an object id is not in ``labels`` (naming it), is duplicated, or shapes or names do not match.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[1:] != np.shape(labels) or image.shape[0] != len(channel_names):
        raise ValueError(
            f"image {image.shape} must be (C, H, W) with C = {len(channel_names)} channel names "
            f"and (H, W) = labels {np.shape(labels)}"
        )
    unknown = [m for m in measurements if m not in SHAPE_GROUPS + CHANNEL_GROUPS]
    if unknown or not measurements:
        raise ValueError(f"unknown measurement(s) {unknown}; choose from {list(SHAPE_GROUPS + CHANNEL_GROUPS)}")
    object_ids = np.asarray(object_ids)
    dense = _dense_labels(np.asarray(labels), object_ids.astype(np.int64))
    functions = measurement_functions()
    columns: dict[str, np.ndarray] = {}  # one DataFrame from a matrix at the end: building it per column is slow
    for group in measurements:
        planes = [(None, image[0])] if group in SHAPE_GROUPS else zip(channel_names, image, strict=True)
        for channel, plane in planes:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # NaN of undefined features: see fill_non_finite
                values = functions[group](dense, plane)
            for feature, array in values.items():
                if not _LEFT_OUT.match(feature):
                    columns[_column(group, feature, channel)] = np.asarray(array, dtype=np.float64)
    values = np.column_stack(list(columns.values()))
    return pd.DataFrame(values, columns=list(columns), index=pd.Index(object_ids, name="object_id"))


def fill_non_finite(profiles: pd.DataFrame, *, value: float = 0.0) -> pd.DataFrame:
    """Replace NaN and infinite feature values by ``value``, warn, and record the counts.

    Returns
    -------
    pandas.DataFrame
        A copy with every feature column finite; ``attrs["non_finite"]`` maps each column that
        held non-finite values to their count (empty when none did), ``attrs["non_finite_fill"]`` is ``value``.
    """
    features = feature_columns(profiles)
    bad = ~np.isfinite(profiles[features].to_numpy(dtype=np.float64))
    counts = {str(c): int(n) for c, n in zip(features, bad.sum(axis=0), strict=True) if n}
    filled = profiles.copy()
    if counts:
        names = list(counts)
        filled[names] = filled[names].where(np.isfinite(filled[names]), value)
        warnings.warn(
            f"{int(bad.sum())} undefined feature value(s) in {int(bad.any(axis=1).sum())} cell(s) set to {value}, "
            f"in {len(counts)} column(s), e.g. {names[:3]}",
            stacklevel=2,
        )
    filled.attrs["non_finite"] = counts
    filled.attrs["non_finite_fill"] = value
    return filled


@dataclass(frozen=True)
class _Job:
    """What every field of one run shares (pickled once per chunk of fields for worker processes)."""

    fields: FieldDataset
    measurements: tuple[str, ...]
    crop_size: int | None
    nucleus_channel: str


def _within_windows(labels: np.ndarray, object_ids: np.ndarray, centres: np.ndarray, *, size: int) -> np.ndarray:
    """Keep the pixels of ``object_ids[i]`` only inside the ``size`` window around ``centres[i]`` (x, y).

    The window is the one ``celldino_utils.io.crops.crop_around`` cuts (shifted inside the field at its
    borders), so the features see the crop's pixels. Labels not in ``object_ids`` are set to 0.
    """
    n = int(max(labels.max(initial=0), object_ids.max(initial=0))) + 1
    top, left = np.full(n, -2 * size), np.full(n, -2 * size)  # other labels: a window that misses the image
    height, width = labels.shape
    top[object_ids] = [window_start(y, size=size, extent=height) for y in centres[:, 1]]
    left[object_ids] = [window_start(x, size=size, extent=width) for x in centres[:, 0]]
    rows, cols = np.indices(labels.shape)
    top, left = top[labels], left[labels]
    inside = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return np.where(inside, labels, 0)


def _measure_field(job: _Job, task: tuple[int, np.ndarray, np.ndarray, Path | None]) -> pd.DataFrame:
    """Features of the cells of one field: ``task`` = field index, cell ids, ``(N, 2)`` x, y centres, mask."""
    f, cell_ids, centres, mask_path = task
    image = job.fields[f].numpy()
    channels = job.fields.layout.channels
    if mask_path is None:  # label k is the k-th centre of the field
        nucleus = channels.index(job.nucleus_channel)
        others = tuple(c for c in range(len(channels)) if c != nucleus)
        labels = segment_from_centres(image, centres, nucleus_channel=nucleus, cytoplasm_channels=others)
        object_ids = np.arange(1, len(centres) + 1)
    else:
        labels, object_ids = read_image(mask_path).astype(np.int64), cell_ids
    if job.crop_size is not None:
        labels = _within_windows(labels, object_ids, centres, size=job.crop_size)
    try:
        features = measure_cells(
            image, labels, channel_names=channels, object_ids=object_ids, measurements=job.measurements
        )
    except ValueError as err:
        source = mask_path if mask_path is not None else job.fields.metadata["Metadata_Id"].iloc[f]
        raise ValueError(f"{source}: {err}") from err
    return features


def _field_tasks(
    fields: FieldDataset, cells: pd.DataFrame, *, mask_dir: Path | None, mask_suffix: str
) -> tuple[list[np.ndarray], list[tuple[int, np.ndarray, np.ndarray, Path | None]]]:
    """Row positions of the cells of each field with cells, and one measurement task per such field."""
    field_ids = pd.Index(fields.metadata["Metadata_Id"])
    if not field_ids.is_unique:
        raise ValueError(
            f"Metadata_Id is not unique across fields, e.g. {field_ids[field_ids.duplicated()][:3].tolist()}"
        )
    field_of_cell = field_ids.get_indexer(cells["Metadata_Id"])
    cell_ids = cells["Metadata_cell_id"].to_numpy(dtype=np.int64)
    centres = cells[["Metadata_center_x", "Metadata_center_y"]].to_numpy(dtype=float)
    positions, tasks = [], []
    for f, rows in pd.Series(np.arange(len(cells))).groupby(field_of_cell, sort=True):
        rows = rows.to_numpy()
        mask = None if mask_dir is None else mask_dir / f"{field_ids[f]}{mask_suffix}"
        positions.append(rows)
        tasks.append((int(f), cell_ids[rows], centres[rows], mask))
    return positions, tasks


def cellprofiler_profiles(
    format: str,
    data_dir: str | Path,
    *,
    crop_size: int | None = None,
    nuclei: str = NUCLEI_CSV,
    mask_dir: str = MASK_DIR,
    mask_suffix: str = CELL_MASK_SUFFIX,
    measurements: Sequence[str] = DEFAULT_MEASUREMENTS,
    nucleus_channel: str = "DNA",
    n_jobs: int = 1,
    progress: bool = True,
    **options: object,
) -> pd.DataFrame:
    """CellProfiler-style features of every cell of a data set, in the profile schema (supplement, rec. 4).

    HPA cells are measured inside their label masks (``mask_dir/{Id}{mask_suffix}``); Cell Painting cells,
    which come as nucleus centres only, inside outlines from :func:`segment_from_centres`
    (``nucleus_channel`` seeds, the other channels fill the cell body).

    Parameters
    ----------
    format, data_dir, nuclei, mask_dir, mask_suffix, options
        The data set, read with ``celldino_utils.io.open_cells`` (``options`` go to its index reader).
    crop_size
        None measures whole cells; a size measures only the part of each cell inside the
        ``crop_size`` window around its centre: the pixels its single-cell crop shows.
    measurements
        cp-measure groups (see the module docstring for costs and the default).
    n_jobs
        Worker processes over fields (1: in this process).
    progress
        Show a progress bar over fields.

    Returns
    -------
    pandas.DataFrame
        One row per cell in exactly the order of ``open_cells(format, data_dir, ...).metadata`` and with
        its ``Metadata_*`` columns, then the ``Cells_*`` features, all finite (:func:`fill_non_finite`;
        counts in ``attrs["non_finite"]``). ``attrs["measurements"]`` lists the groups measured.

    Raises
    ------
    ValueError
        If the data set has no cells, or a cell of the cell table has no pixel in its mask (naming the mask).

    Notes
    -----
    With ``n_jobs > 1`` the fields are measured in that many processes; the rows are the same, in the same order.
    """
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be at least 1, got {n_jobs}")
    cells = open_cells(
        format,
        data_dir,
        crop_size=crop_size if crop_size is not None else 64,  # the cell table does not depend on it
        mask_dir=mask_dir,
        mask_suffix=mask_suffix,
        nuclei=nuclei,
        cache_mib=0,  # each field is measured once: nothing to keep
        **options,
    )
    if len(cells) == 0:
        raise ValueError(f"{data_dir}: no cells to measure")
    if format == "cellpainting" and nucleus_channel not in cells.layout.channels:
        raise ValueError(f"nucleus_channel {nucleus_channel!r} is not one of {list(cells.layout.channels)}")
    masks = None if format == "cellpainting" else Path(data_dir) / mask_dir
    positions, tasks = _field_tasks(cells.fields, cells.metadata, mask_dir=masks, mask_suffix=mask_suffix)
    job = _Job(cells.fields, tuple(measurements), crop_size, nucleus_channel)
    run = partial(_measure_field, job)
    bar = partial(tqdm, total=len(tasks), desc="cellprofiler", disable=not progress, leave=False)
    if n_jobs == 1:
        results = list(bar(map(run, tasks)))
    else:
        with get_context().Pool(n_jobs) as pool:
            results = list(bar(pool.imap(run, tasks, chunksize=max(1, len(tasks) // (8 * n_jobs)))))
    names = list(results[0].columns)
    values = np.empty((len(cells), len(names)))
    for rows, features in zip(positions, results, strict=True):
        values[rows] = features[names].to_numpy()
    profiles = fill_non_finite(to_profiles(cells.metadata, values, names=names))
    profiles.attrs["measurements"] = list(measurements)
    return profiles
