"""Driver of the guide's chapter on a lab's own images: a plate of OME-TIFF fields into Cell-DINO and on to AnnData.

The plate is the synthetic one of :func:`celldino_utils.synthetic.images.write_ome_tiff_plate` (three stains named in
the OME metadata, fields of two sizes, cell masks beside them); a lab points the same calls at its own folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from celldino_utils.config import resolve_path
from celldino_utils.embed import embed_data, feed_order, resolve_checkpoint
from celldino_utils.io import feature_columns, provenance_text, read_profiles
from celldino_utils.io.bioimages import index_layout
from celldino_utils.io.channels import IMAGES
from celldino_utils.io.datasets import read_index
from celldino_utils.models import find_released_weights, get_released_model
from celldino_utils.plot import plot_umap, umap_embedding
from celldino_utils.synthetic.images import PLATEMAP_CSV, write_ome_tiff_plate


def write_example_plate(
    plate_dir: str | Path, *, fields_per_well: int, cells_per_field: int, seed: int
) -> pd.DataFrame:
    """Write the example plate (4 wells, half ``control`` and half ``treated``) into ``plate_dir``.

    Returns
    -------
    pandas.DataFrame
        One row per field: ``Metadata_Id``, ``Metadata_Well``, ``Metadata_treatment``, ``height``, ``width``,
        ``n_cells`` (:func:`~celldino_utils.synthetic.images.write_ome_tiff_plate`).
    """
    return write_ome_tiff_plate(plate_dir, fields_per_well=fields_per_well, cells_per_field=cells_per_field, seed=seed)


def plate_channels(plate_dir: str | Path, *, read_options: dict[str, Any]) -> tuple[str, ...]:
    """The channel names of an ``images`` data set, from its files' metadata (headers only)."""
    return index_layout(IMAGES, read_index(IMAGES, plate_dir, **read_options)).channels


def channel_fit(plate_dir: str | Path, checkpoint: str | Path, *, read_options: dict[str, Any]) -> str:
    """Whether ``checkpoint``'s model takes the plate's channels: the order they are fed in, or the error that
    names what is missing or extra (nothing is embedded)."""
    return _fit(plate_channels(plate_dir, read_options=read_options), checkpoint)


def _fit(channels: tuple[str, ...], checkpoint: str | Path) -> str:
    """:func:`channel_fit` on channel names already read."""
    try:
        fed = feed_order(resolve_checkpoint(checkpoint), channels)
    except ValueError as error:
        return f"refused: {error}"
    return f"takes {', '.join(fed)}"


def embed_plate(
    plate_dir: str | Path,
    checkpoint: str | Path,
    *,
    out: str | Path,
    crop_size: int,
    read_options: dict[str, Any],
    seed: int,
    weights: str | Path | None = None,
) -> pd.DataFrame:
    """Embed every cell of the plate at its native pixel size into ``out`` (Parquet or ``.h5ad``) and read it back.

    Native pixels: a model trained on other fields says nothing of this microscope's pixel size.

    Returns
    -------
    pandas.DataFrame
        One row per cell: the plate's ``Metadata_*`` columns (with ``platemap.csv``'s), ``Metadata_cell_id`` and
        centre, then ``emb_*``; its provenance in ``attrs["provenance"]``. ``weights``: the weights file of a
        released model named by ``checkpoint``.
    """
    options = {"metadata_csv": PLATEMAP_CSV, **read_options}
    written = embed_data(
        IMAGES,
        plate_dir,
        checkpoint=resolve_checkpoint(checkpoint),
        weights=weights,
        level="cell",
        out=out,
        crop_size=crop_size,
        native_size=True,
        read_options=options,
        seed=seed,
        progress=False,
    )
    return read_profiles(written)


def embed_plate_released(
    plate_dir: str | Path, model: str, *, weights: str | Path | None, out: str | Path, **options: Any
) -> str:
    """Embed the plate with a released model when its weights file is found (:func:`embed_plate`, ``options``);
    one line saying the cells and features embedded, or where to request the weights when none is found."""
    found = find_released_weights(model, weights)
    if found is None:
        return f"{model}: skipped, no weights file; request them at {get_released_model(model).source}"
    cells = embed_plate(plate_dir, model, out=out, weights=found, **options)
    return f"{model}: {len(cells)} cells x {len(feature_columns(cells))} features"


@dataclass(frozen=True)
class OwnPlate:
    """The chapter's results.

    Attributes
    ----------
    fields : pandas.DataFrame
        The plate as written: one row per field (:func:`write_example_plate`).
    channels : str
        The plate's channels, from the OME metadata, in a sentence.
    fits : str
        Which models take them: the bag-of-channels model, the HPA model, and the HPA model with ``channel_map``.
    embedded : str
        The cells and features written to the AnnData file, their provenance and transform, and the released
        bag-of-channels model's line (embedded, or where to request its weights).
    figure : matplotlib.figure.Figure
        The UMAP of the cells read back from the AnnData file, coloured by treatment (closed).
    """

    fields: pd.DataFrame
    channels: str
    fits: str
    embedded: str
    figure: Figure


def embed_own_plate(
    *,
    plate_dir: str,
    fields_per_well: int,
    cells_per_field: int,
    read_options: dict[str, Any],
    boc_checkpoint: str,
    hpa_checkpoint: str,
    channel_map: dict[str, str],
    released_boc_model: str,
    released_boc_weights: str,
    cell_crop_size: int,
    out_dir: str,
    umap_cache_dir: str,
    n_neighbors: int,
    seed: int,
) -> OwnPlate:
    """The chapter: write the example plate, check which models take its channels, embed its cells into AnnData
    with the bag-of-channels model (and the released one when its weights are there), and draw their UMAP.

    Paths are parameters as given (resolved under the project root); the cells go to
    ``out_dir/own_plate_cells.h5ad`` and, for the released model, ``out_dir/own_plate_cells_<model>.h5ad``.
    """
    plate = resolve_path(plate_dir)
    fields = write_example_plate(plate, fields_per_well=fields_per_well, cells_per_field=cells_per_field, seed=seed)
    names = plate_channels(plate, read_options=read_options)  # the headers, read once
    mapped = plate_channels(plate, read_options={**read_options, "channel_map": channel_map})
    channels = f"channels, from the OME metadata: {', '.join(names)}"
    fits = "\n".join(
        [
            f"bag of channels: {_fit(names, boc_checkpoint)}",
            f"HPA model: {_fit(names, hpa_checkpoint)}",
            f"HPA model, channels mapped: {_fit(mapped, hpa_checkpoint)}",
        ]
    )
    options = {"crop_size": cell_crop_size, "read_options": read_options, "seed": seed}
    cells_file = resolve_path(out_dir) / "own_plate_cells.h5ad"
    cells = embed_plate(plate, boc_checkpoint, out=cells_file, **options)
    released_file = resolve_path(out_dir) / f"own_plate_cells_{released_boc_model}.h5ad"
    weights = resolve_path(released_boc_weights) if released_boc_weights else None
    embedded = "\n".join(
        [
            f"{len(cells)} cells x {len(feature_columns(cells))} features -> {cells_file.name}",
            f"from {provenance_text(cells.attrs['provenance'])}",
            f"transform: {cells.attrs['provenance']['transform']}",
            embed_plate_released(plate, released_boc_model, weights=weights, out=released_file, **options),
        ]
    )
    coords = umap_embedding(cells, n_neighbors=n_neighbors, seed=seed, cache_dir=resolve_path(umap_cache_dir))
    figure = plot_umap(coords, color_col="Metadata_treatment", title="Own plate, bag-of-channels embedding", seed=seed)
    plt.close(figure)
    return OwnPlate(fields, channels, fits, embedded, figure)
