"""Embed every data set of the companion with a trained model and with the same architecture at random init."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from celldino_utils.correct.profiling import aggregate_wells
from celldino_utils.embed.cellprofiler import cellprofiler_profiles
from celldino_utils.embed.model import RANDOM_INIT, random_init_twin
from celldino_utils.embed.pipeline import embed_data
from celldino_utils.io.profiles import is_feature, profile_path, write_profiles

#: Data sets of the companion and the levels embedded from each: HPA fields and cells, Cell Painting cells.
LEVELS_BY_DATASET: dict[str, tuple[str, ...]] = {"hpa": ("fov", "cell"), "cp": ("cell",)}


def embed_suite(
    *,
    data_dirs: dict[str, str | Path],
    formats: dict[str, str],
    checkpoints: dict[str, str | Path],
    out_dir: str | Path,
    crop_sizes: dict[str, int],
    features: str = "celldino",
    random_init: str | None = "random",
    **options: Any,
) -> pd.DataFrame:
    """Embed HPA fields and cells and Cell Painting cells, with trained models and their random-init twins.

    Parameters
    ----------
    data_dirs, formats, checkpoints, crop_sizes
        Keyed by dataset name (``hpa``, ``cp``): data folder, its on-disk format (``hpa-kaggle``, ``hpa-fov``,
        ``cellpainting``), trained checkpoint (a path or a released model's name), single-cell crop size.
    features
        Name of the trained feature set in the file names (``hpa_fov_<features>.parquet``).
    random_init
        Name of the random-init feature set, or None to skip it. Its architecture is read from the
        ``config.yaml`` beside each trained checkpoint.
    options
        Passed to :func:`celldino_utils.embed.embed_data` (batch size, workers, device, seed...).

    Returns
    -------
    pandas.DataFrame
        One row per file written: ``dataset, level, features, file, rows, dims, seconds``.
    """
    rows = []
    for dataset, levels in LEVELS_BY_DATASET.items():
        models = {features: (checkpoints[dataset], {})}
        if random_init:
            models[random_init] = (RANDOM_INIT, random_init_twin(checkpoints[dataset]))
        for name, (checkpoint, architecture) in models.items():
            for level in levels:
                out = profile_path(out_dir, dataset=dataset, level=level, features=name)
                start = time.perf_counter()
                embed_data(
                    formats[dataset],
                    data_dirs[dataset],
                    checkpoint=checkpoint,
                    level=level,
                    out=out,
                    crop_size=crop_sizes[dataset],
                    architecture=architecture,
                    **options,
                )
                rows.append(_written(out, dataset=dataset, level=level, features=name, start=start))
    return pd.DataFrame(rows)


def _written(out: Path, *, dataset: str, level: str, features: str, start: float) -> dict[str, Any]:
    """One row of a suite's report on the file ``out``, read from its Parquet footer alone."""
    footer = pq.read_metadata(out)
    return {
        "dataset": dataset,
        "level": level,
        "features": features,
        "file": str(out),
        "rows": footer.num_rows,
        "dims": sum(1 for c in footer.schema.names if is_feature(c)),
        "seconds": round(time.perf_counter() - start, 1),
    }


def cellprofiler_suite(
    *,
    data_dirs: dict[str, str | Path],
    formats: dict[str, str],
    out_dir: str | Path,
    crop_sizes: dict[str, int],
    features: str = "cellprofiler",
    **options: Any,
) -> pd.DataFrame:
    """The CellProfiler-style baseline of every data set, in the same files and schema as the embeddings.

    Cells are measured inside their single-cell crops (``crop_sizes``); an HPA field's profile is
    the median of its cells. ``data_dirs``, ``formats`` and ``crop_sizes`` are keyed by dataset name as in
    :func:`embed_suite`. ``options`` go to :func:`celldino_utils.embed.cellprofiler.cellprofiler_profiles`.

    Returns
    -------
    pandas.DataFrame
        One row per file written: ``dataset, level, features, file, rows, dims, seconds``.
    """
    rows = []
    for dataset, levels in LEVELS_BY_DATASET.items():
        start = time.perf_counter()
        cells = cellprofiler_profiles(formats[dataset], data_dirs[dataset], crop_size=crop_sizes[dataset], **options)
        tables = {"cell": cells}
        if "fov" in levels:
            tables["fov"] = aggregate_wells(cells, strata=("Metadata_Id",))
        for level, table in tables.items():
            out = write_profiles(table, profile_path(out_dir, dataset=dataset, level=level, features=features))
            rows.append(_written(out, dataset=dataset, level=level, features=features, start=start))
    return pd.DataFrame(rows)
