"""The data chapter: make or open the HPA and Cell Painting data sets (and the photographs), and show them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from IPython.display import Markdown
from matplotlib.figure import Figure

from celldino_utils.chapters.embedding import crops_as_embedded
from celldino_utils.chapters.shown import shown_figure
from celldino_utils.config import load_profile, project_root, resolve_path
from celldino_utils.io import open_fields
from celldino_utils.io.datasets import field_sizes, sample_positions
from celldino_utils.io.hpa import label_table
from celldino_utils.plot import (
    plot_cellpainting_sites,
    plot_crop_channels,
    plot_hpa_examples,
    plot_photographs,
)
from celldino_utils.synthetic import planted_cellpainting_effects
from celldino_utils.synthetic.profile import ensure_synthetic


@dataclass(frozen=True)
class DataSets:
    """What the data chapter shows.

    Attributes
    ----------
    summary : str
        Fields, sites, channels and image sizes of the two data sets.
    hpa_groups, wells : pandas.DataFrame
        Images per value of the HPA group columns; Cell Painting wells per value of its group columns.
    hpa_labels : list of pandas.DataFrame
        Images per localisation class, and per heterogeneity type where the metadata say it.
    figures : dict
        Figure name -> figure (saved as ``<name>.png`` and ``.pdf`` and closed), or a sentence where the profile
        has nothing to draw (``data_photographs`` without photographs).
    planted : list
        The truth a synthetic screen was made with (a heading and a table per part), or a sentence for real data.
    """

    summary: str
    hpa_groups: pd.DataFrame
    hpa_labels: list[pd.DataFrame]
    wells: pd.DataFrame
    planted: list[Markdown | pd.DataFrame]
    figures: dict[str, Figure | Markdown]


def images_per_group(metadata: pd.DataFrame, group_cols: Sequence[str], *, name: str = "images") -> pd.DataFrame:
    """Rows of ``metadata`` counted per value of ``group_cols``: the last column across, or one ``name`` column."""
    counts = metadata.groupby(list(group_cols)).size()
    return counts.unstack(fill_value=0) if len(group_cols) > 1 else counts.rename(name).to_frame()


def label_counts(metadata: pd.DataFrame) -> list[pd.DataFrame]:
    """Images per localisation class (an image with two labels counts in both), and per heterogeneity type."""
    counts = [label_table(metadata)["class_name"].value_counts().rename("images").to_frame()]
    if "Metadata_heterogeneity" in metadata:
        counts.append(metadata["Metadata_heterogeneity"].value_counts().rename("images").to_frame())
    return counts


def planted_tables(cellpainting_data: str, *, generate: bool) -> list[Markdown | pd.DataFrame]:
    """Each part of the truth a synthetic Cell Painting screen records, as a heading and a table (3 decimals)."""
    if not generate:
        return [Markdown("Real data: no planted truth to show.")]
    planted = planted_cellpainting_effects(resolve_path(cellpainting_data))
    return [shown for name, table in planted.items() for shown in (Markdown(f"**{name}**"), table.round(3))]


def _ensure_data(profile: str, hpa_data: str, cellpainting_data: str, photographs_data: str) -> None:
    """Generate the profile's synthetic data sets where their folders do not hold the same data already."""
    synthetic = load_profile(profile, root=project_root())["synthetic"]
    ensure_synthetic("hpa", resolve_path(hpa_data), synthetic["hpa"])
    ensure_synthetic("cellpainting", resolve_path(cellpainting_data), synthetic["cellpainting"])
    if photographs_data and "photographs" in synthetic:
        ensure_synthetic("photographs", resolve_path(photographs_data), synthetic["photographs"])


def show_data(
    *,
    profile: str,
    generate: bool,
    hpa_data: str,
    hpa_format: str,
    hpa_read_options: dict[str, Any],
    hpa_group_cols: Sequence[str],
    cellpainting_data: str,
    cellpainting_format: str,
    cellpainting_read_options: dict[str, Any],
    cellpainting_cell_crop_size: int,
    cellpainting_cell_read_options: dict[str, Any],
    cells_query: str,
    cellpainting_group_cols: Sequence[str],
    photographs_data: str,
    out_dir: str,
    n_per_group: int,
    seed: int,
) -> DataSets:
    """The data chapter: make (``generate``, with ``profile``'s synthetic settings) or open the data, and draw it.

    Parameters
    ----------
    hpa_*, cellpainting_*
        Each data set's folder, format and reader options, and the columns its images or wells are counted by;
        Cell Painting cells are also drawn as a model sees them (crop side, cell reader options, ``cells_query``).
    photographs_data
        The natural photographs of Cell-DINO+'s start, or ``""`` for none.
    out_dir, n_per_group, seed
        The figures' folder, HPA examples per class or cell line, the seed of the draws.
    """
    if generate:
        _ensure_data(profile, hpa_data, cellpainting_data, photographs_data)
    hpa = open_fields(hpa_format, resolve_path(hpa_data), **hpa_read_options)
    cellpainting = open_fields(cellpainting_format, resolve_path(cellpainting_data), **cellpainting_read_options)
    sizes = sorted(set(field_sizes(hpa, sample_positions(len(hpa), 64))))  # from the image headers
    summary = f"HPA: {len(hpa)} fields, channels {hpa.layout.channels}, sizes (h, w) of up to 64 of them {sizes}\n"
    summary += f"Cell Painting: {len(cellpainting)} sites, channels {cellpainting.layout.channels}"
    hpa_groups, hpa_labels = images_per_group(hpa.metadata, hpa_group_cols), label_counts(hpa.metadata)
    examples = {"n_per_group": n_per_group, "seed": seed}
    figures: dict[str, Figure | Markdown] = {
        f"data_hpa_by_{name}": shown_figure(
            plot_hpa_examples(hpa, group_by=by, **examples), out_dir, f"data_hpa_by_{name}"
        )
        for name, by in (("class", "class"), ("cell_line", "Metadata_cell_line"))
    }
    meta = cellpainting.metadata
    wells = images_per_group(meta.drop_duplicates(["Metadata_Plate", "Metadata_Well"]), cellpainting_group_cols)
    picks = meta[meta["Metadata_dose_recode"].isin([0, 6])].drop_duplicates("Metadata_moa").index[:6]
    sites = plot_cellpainting_sites(cellpainting, picks, label_col="Metadata_moa")
    figures["data_cellpainting_sites"] = shown_figure(sites, out_dir, "data_cellpainting_sites")
    planted = planted_tables(cellpainting_data, generate=generate)
    crops, labels = crops_as_embedded(
        cellpainting_format,
        resolve_path(cellpainting_data),
        crop_size=cellpainting_cell_crop_size,
        label_col="Metadata_moa",
        query=cells_query,
        seed=seed,
        **{**cellpainting_read_options, **cellpainting_cell_read_options},
    )
    drawn = plot_crop_channels(crops, row_labels=labels, channels=cellpainting.layout.channels)
    figures["data_cellpainting_cells_as_embedded"] = shown_figure(drawn, out_dir, "data_cellpainting_cells_as_embedded")
    figures["data_photographs"] = Markdown("No natural photographs in this profile (`photographs_data` is empty).")
    if photographs_data:
        photographs = open_fields("photographs", resolve_path(photographs_data))
        summary += f"\nNatural photographs: {len(photographs)} tiles of {photographs[0].shape[-1]} px"
        drawn = plot_photographs(photographs, sample_positions(len(photographs), 12))
        figures["data_photographs"] = shown_figure(drawn, out_dir, "data_photographs")
    return DataSets(summary, hpa_groups, hpa_labels, wells, planted, figures)
