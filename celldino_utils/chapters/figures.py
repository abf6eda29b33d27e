"""The figure chapters (supplement Figures A-D): profile files in, ``figure_<name>.png`` and ``.pdf`` out.

Every driver takes the notebook's parameters as they are given (paths relative to the project root, resolved
here), draws the figure, saves it beside the tables and returns it closed, for the chapter to show where its
text says, with the numbers printed under it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from celldino_utils.chapters.shown import shown_figure
from celldino_utils.config import resolve_path
from celldino_utils.evaluate.batch_metrics import knn_score
from celldino_utils.evaluate.heterogeneity import score_against_truth, typical_examples
from celldino_utils.io.datasets import crops_of, open_cells
from celldino_utils.io.profiles import read_profiles
from celldino_utils.io.tables import write_table
from celldino_utils.plot import (
    FIGURE_A_CLASSES,
    figure_a,
    figure_b,
    figure_c,
    figure_c_silhouettes,
    figure_d,
    panel_silhouette,
    umap_embedding,
)


@dataclass(frozen=True)
class DrawnFigure:
    """A figure as a chapter shows it.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
        The figure, saved and closed (a notebook shows it where it names it).
    report : str
        The numbers printed under it (silhouettes, scores), one per line.
    table : pandas.DataFrame
        A table shown beside it (Figure C: the silhouettes of every feature set; Figure D: scores per kind of
        heterogeneity); empty otherwise.
    """

    figure: Figure
    report: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def _umap_options(umap_cache_dir: str, n_neighbors: int, min_dist: float, seed: int) -> dict[str, Any]:
    return {"n_neighbors": n_neighbors, "min_dist": min_dist, "seed": seed, "cache_dir": resolve_path(umap_cache_dir)}


def silhouette_lines(profiles: pd.DataFrame, panels: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """``silhouette (<what>): <score>`` for each ``(by, classes)`` of ``panels`` (:func:`panel_silhouette`)."""
    lines = []
    for by, classes in panels:
        score, what = panel_silhouette(profiles, by=by, classes=classes)
        lines.append(f"silhouette ({what}): {score:.3f}")
    return lines


def draw_figure_a(
    hpa_after_input: str, *, umap_cache_dir: str, n_neighbors: int, min_dist: float, seed: int, out_dir: str
) -> DrawnFigure:
    """Figure A: the UMAP of batch-corrected HPA field embeddings, with the localisation silhouettes.

    The UMAP is seeded and cached in ``umap_cache_dir`` (Figure C reuses it); the silhouettes are over every
    single-label field and over those of the four highlighted classes.
    """
    profiles = read_profiles(resolve_path(hpa_after_input))
    coords = umap_embedding(profiles, **_umap_options(umap_cache_dir, n_neighbors, min_dist, seed))
    figure = shown_figure(figure_a(coords, profiles=profiles), out_dir, "figure_A")
    lines = silhouette_lines(profiles, [("localisation", ()), ("localisation", FIGURE_A_CLASSES)])
    return DrawnFigure(figure, "\n".join(lines))


def draw_figure_b(
    hpa_before_input: str, *, umap_cache_dir: str, n_neighbors: int, min_dist: float, seed: int, out_dir: str
) -> DrawnFigure:
    """Figure B: the UMAP of uncorrected HPA field embeddings by cell line, with silhouettes and the cell-line kNN.

    The report gives the silhouettes by cell line and by localisation, and the cell-line nearest-neighbour macro
    F1 (k = 1, cosine, any plate) beside its chance level.
    """
    profiles = read_profiles(resolve_path(hpa_before_input))
    coords = umap_embedding(profiles, **_umap_options(umap_cache_dir, n_neighbors, min_dist, seed))
    figure = shown_figure(figure_b(coords, profiles=profiles), out_dir, "figure_B")
    lines = silhouette_lines(profiles, [("Metadata_cell_line", ()), ("localisation", ())])
    cell_line_f1 = knn_score(profiles, label_col="Metadata_cell_line")
    chance = 1 / profiles["Metadata_cell_line"].nunique()
    lines.append(f"cell-line kNN macro F1: {cell_line_f1:.3f} (chance {chance:.3f})")
    return DrawnFigure(figure, "\n".join(lines))


def figure_c_profiles(paths: Sequence[str], *, cp_wells_query: str) -> list[pd.DataFrame]:
    """Figure C's four profile tables from ``paths`` (its order), the wells of panel D only those of ``cp_wells_query``.

    Raises
    ------
    ValueError
        Naming the query and the wells file, when it selects no well.
    """
    profiles = [read_profiles(resolve_path(path)) for path in paths]
    if cp_wells_query:
        wells = profiles[3].query(cp_wells_query)
        if wells.empty:
            raise ValueError(f"cp_wells_query: {cp_wells_query!r} selects no well of {paths[3]}")
        profiles[3] = wells
    return profiles


def compared_silhouettes(
    own: pd.DataFrame,
    compare_inputs: Mapping[str, Sequence[str]],
    *,
    inputs: Sequence[str],
    cp_batch_col: str,
    cp_wells_query: str,
) -> pd.DataFrame:
    """Figure C's silhouettes of Cell-DINO (``own``, read from ``inputs``) beside those of other feature sets.

    Parameters
    ----------
    own
        :func:`celldino_utils.plot.figure_c_silhouettes` of the figure's four profile files ``inputs``.
    compare_inputs
        Feature set -> its four files, in the figure's order (fields before and after Harmony, cells, wells).
    cp_wells_query
        The wells of panel D (:func:`figure_c_profiles`); ``""``: all.

    Returns
    -------
    pandas.DataFrame
        One row per feature set and panel, with ``features``, the files each came from, ``cp_batch_col``,
        ``cp_wells_query`` and ``paper`` (the supplement prints no silhouettes): the long form written to
        ``figure_C_silhouettes.csv``.
    """
    compared = {"Cell-DINO": own}
    for name, paths in compare_inputs.items():
        tables = figure_c_profiles(paths, cp_wells_query=cp_wells_query)
        compared[name] = figure_c_silhouettes(tables, cp_batch_col=cp_batch_col)
    silhouettes = pd.concat(compared, names=["features", None]).reset_index(level="features")
    sources = {"Cell-DINO": inputs, **compare_inputs}
    provenance = {
        "files": silhouettes["features"].map(lambda name: " ".join(sources[name])),
        "cp_batch_col": cp_batch_col,
        "cp_wells_query": cp_wells_query or "all wells",
    }
    provenance["paper"] = "none: the supplement's Figure C prints no silhouettes"
    return silhouettes.assign(**provenance)


def draw_figure_c(
    hpa_before_input: str,
    hpa_after_input: str,
    cp_cells_input: str,
    cp_wells_input: str,
    *,
    compare_inputs: Mapping[str, Sequence[str]],
    cp_batch_col: str,
    cp_wells_query: str,
    umap_cache_dir: str,
    n_neighbors: int,
    min_dist: float,
    seed: int,
    out_dir: str,
) -> DrawnFigure:
    """Figure C: HPA fields and Cell Painting profiles before and after the standard transformations.

    The four panels print their silhouettes; ``table`` sets them beside those of the feature sets of
    ``compare_inputs`` (:func:`compared_silhouettes`), written to ``figure_C_silhouettes.csv`` in long form.
    Panel D draws and scores the wells that ``cp_wells_query`` selects (``""``: all).
    """
    inputs = [hpa_before_input, hpa_after_input, cp_cells_input, cp_wells_input]
    profiles = figure_c_profiles(inputs, cp_wells_query=cp_wells_query)
    options = _umap_options(umap_cache_dir, n_neighbors, min_dist, seed)
    coords = [umap_embedding(p, **options) for p in profiles]
    own = figure_c_silhouettes(profiles, cp_batch_col=cp_batch_col)  # computed once: printed on the panels, tabled
    drawn = figure_c(*coords, profiles=profiles, cp_batch_col=cp_batch_col, silhouettes=own)
    figure = shown_figure(drawn, out_dir, "figure_C")
    silhouettes = compared_silhouettes(
        own, compare_inputs, inputs=inputs, cp_batch_col=cp_batch_col, cp_wells_query=cp_wells_query
    )
    write_table(silhouettes, resolve_path(out_dir) / "figure_C_silhouettes.csv")
    table = silhouettes.pivot_table(
        index=["panel", "coloured_by"], columns="features", values="silhouette", sort=False
    ).round(3)
    return DrawnFigure(figure, table=table)


def example_cells(
    line: pd.DataFrame,
    scores: pd.DataFrame,
    examples: Mapping[str, str],
    *,
    truth_col: str,
    protein_col: str,
    min_cells: int,
    source: str,
) -> dict[str, pd.DataFrame]:
    """The cells of Figure D's example proteins, one per kind of heterogeneity, named ``"<protein> (<kind>)"``.

    Parameters
    ----------
    line
        The single cells of one cell line, with ``protein_col`` and ``truth_col``.
    scores
        Per-protein scores (:func:`celldino_utils.evaluate.heterogeneity.score_against_truth`).
    examples
        Kind -> protein; empty: the protein nearest its kind's median score (:func:`typical_examples`).
    source
        What ``line`` is, for the error.

    Raises
    ------
    ValueError
        If an example protein has no cell in ``line``.
    """
    examples = examples or typical_examples(scores, truth_col=truth_col, group_col=protein_col, min_cells=min_cells)
    chosen = {f"{protein} ({kind})": line[line[protein_col] == protein] for kind, protein in examples.items()}
    absent = [name for name, group in chosen.items() if group.empty]
    if absent:
        raise ValueError(f"examples: no cell of {absent} in {source} (column {protein_col})")
    return chosen


def draw_figure_d(
    cells_input: str,
    *,
    hpa_data: str,
    hpa_format: str,
    hpa_read_options: Mapping[str, Any],
    cell_line: str,
    truth_col: str,
    protein_col: str,
    examples: Mapping[str, str],
    crop_size: int,
    n_crops: int,
    out_dir: str,
) -> DrawnFigure:
    """Figure D: cell-by-cell similarity matrices and crops of three proteins of ``cell_line``, one per kind.

    Every protein with at least ``n_crops`` cells is scored (1 - mean cosine similarity between its cells) and
    the scores are set against the heterogeneity of ``truth_col`` (``table``: one row per kind); the example
    proteins are those of ``examples`` or the typical ones (:func:`example_cells`).
    """
    cells = read_profiles(resolve_path(cells_input), require=["Metadata_cell_line", protein_col, truth_col])
    line = cells[cells["Metadata_cell_line"] == cell_line]
    scores, summary = score_against_truth(line, truth_col=truth_col, group_col=protein_col, min_cells=n_crops)
    report = (
        f"{len(scores)} proteins scored; {len(summary.attrs['too_few_cells'])} "
        f"with fewer than {n_crops} cells in {cell_line} left out"
    )
    options = {"truth_col": truth_col, "protein_col": protein_col, "min_cells": n_crops}
    chosen = example_cells(line, scores, examples, **options, source=f"the {cell_line} cells of {cells_input}")
    images = open_cells(hpa_format, resolve_path(hpa_data), crop_size=crop_size, **hpa_read_options)
    crops = {name: crops_of(images, group) for name, group in chosen.items()}
    named_scores = scores.assign(**{protein_col: scores[protein_col] + " (" + scores[truth_col] + ")"})
    drawn = figure_d(chosen, crops, layout=images.layout, scores=named_scores, group_col=protein_col, n_crops=n_crops)
    return DrawnFigure(shown_figure(drawn, out_dir, "figure_D"), report, summary.round(3))
