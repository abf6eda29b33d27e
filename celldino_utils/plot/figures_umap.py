"""UMAP figures of the supplement: Figure A (after Harmony), B (before) and C (HPA and Cell Painting).

Every panel colours a UMAP (:func:`celldino_utils.plot.umap.umap_embedding`) by one metadata
variable and prints the cosine silhouette of that variable, computed on the embedding features (not
on the 2-D coordinates), so the reader sees the number behind the picture.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from celldino_utils.evaluate.batch_metrics import silhouette
from celldino_utils.io.classes import CLASS_LISTS
from celldino_utils.io.profiles import feature_columns, metadata_columns, require_metadata
from celldino_utils.plot.umap import UMAP_COLUMNS

#: The four clusters highlighted in supplement Figure A.
FIGURE_A_CLASSES: tuple[str, ...] = ("Nucleoplasm", "Cytosol", "Microtubules", "Mitochondria")
MULTI_LABEL = "multi-label"
OTHER_COLOUR = "#d4d4d4"
_LABEL_COL = "Metadata_display_label"

#: Colour group of the rows of a panel whose colouring column has no value (a compound without an MoA).
NO_VALUE = "(none)"


def localisation_labels(
    table: pd.DataFrame,
    *,
    target_col: str = "Metadata_Target",
    class_list_col: str = "Metadata_class_list",
    multi_label: str = MULTI_LABEL,
) -> pd.Series:
    """One display label per HPA field: the class name if it has one label, ``multi_label`` otherwise.

    Parameters
    ----------
    table
        Profiles or UMAP coordinates with ``target_col`` (space-separated class indices, ``"0 25"``)
        and ``class_list_col`` (a key of :data:`celldino_utils.io.classes.CLASS_LISTS`).
    multi_label
        Label of fields with two or more classes.

    Returns
    -------
    pandas.Series
        Strings named ``Metadata_localisation``, with the index of ``table``.
    """
    source = "localisation_labels(table)"
    require_metadata(table, [target_col, class_list_col], source=source)
    unknown = sorted(set(table[class_list_col].astype(str)) - set(CLASS_LISTS))
    if unknown:
        raise ValueError(f"{source}: unknown class list(s) {unknown} in {class_list_col!r}; known: {list(CLASS_LISTS)}")
    labels = []
    for target, class_list in zip(table[target_col].astype(str), table[class_list_col].astype(str), strict=True):
        indices = target.split()
        classes = CLASS_LISTS[class_list]
        if not indices or not all(i.isdigit() and int(i) < len(classes) for i in indices):
            raise ValueError(f"{source}: {target_col!r} value {target!r} is not a set of {class_list} class indices")
        labels.append(classes[int(indices[0])] if len(indices) == 1 else multi_label)
    return pd.Series(labels, index=table.index, name="Metadata_localisation", dtype=object)


def _colours(labels: pd.Series, highlight: tuple[str, ...], max_categories: int) -> dict[str, str | tuple]:
    """Colour of each category: ``highlight`` (or the largest ones) in strong colours, the rest grey."""
    counts = labels.value_counts()
    if highlight:
        strong = list(highlight)
    elif len(counts) <= max_categories:
        strong = sorted(counts.index)
    else:
        strong = sorted(counts.index[: max_categories - 1])
    palette = plt.get_cmap("tab10" if len(strong) <= 10 else "tab20")
    colours: dict[str, str | tuple] = {name: palette(i % palette.N) for i, name in enumerate(strong)}
    return colours | {name: OTHER_COLOUR for name in counts.index if name not in colours}


def _legend_handles(labels: pd.Series, colours: dict[str, str | tuple]) -> list[Line2D]:
    counts = labels.value_counts()
    strong = [name for name, colour in colours.items() if colour != OTHER_COLOUR]
    handles = [
        Line2D([], [], marker="o", linestyle="", color=colours[n], label=f"{n} ({counts.get(n, 0)})") for n in strong
    ]
    n_other = int(counts.drop(strong, errors="ignore").sum())
    if n_other:
        n_groups = len(set(counts.index) - set(strong))
        other = f"other, {n_groups} group{'s' if n_groups > 1 else ''} ({n_other})"
        handles.append(Line2D([], [], marker="o", linestyle="", color=OTHER_COLOUR, label=other))
    return handles


def plot_umap(
    coords: pd.DataFrame,
    *,
    color_col: str,
    highlight: tuple[str, ...] = (),
    title: str,
    ax: Axes | None = None,
    note: str | None = None,
    max_categories: int = 20,
    point_size: float | None = None,
    seed: int = 0,
) -> Figure:
    """Scatter a UMAP coloured by a metadata column, with a legend of categories and counts.

    Parameters
    ----------
    coords
        Output of :func:`~celldino_utils.plot.umap.umap_embedding` (``UMAP_1``, ``UMAP_2`` and metadata).
    color_col
        Metadata column to colour by (for HPA labels, add :func:`localisation_labels` first).
    highlight
        Categories drawn in strong colours on top; every other point is light grey. Empty: every
        category gets a colour, up to ``max_categories`` (the largest ones; the rest are grey).
    title
        Panel title.
    ax
        Axes to draw into; ``None`` makes a new figure.
    note
        Text printed in the lower left corner (the figures put the silhouette there).
    max_categories
        Most categories coloured when ``highlight`` is empty (tab10 up to 10, tab20 above).
    point_size
        Marker area; ``None`` scales it with the number of points.
    seed
        Seed of the drawing order (points are shuffled so no category hides another).

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the panel.
    """
    require_metadata(coords, [*UMAP_COLUMNS, color_col], source="plot_umap(coords)")
    if max_categories < 2:
        raise ValueError(f"plot_umap: max_categories must be >= 2, got {max_categories}")
    labels = coords[color_col].astype(str)
    colours = _colours(labels, tuple(highlight), max_categories)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.2), layout="constrained")
    size = point_size if point_size is not None else float(np.clip(3000.0 / max(len(coords), 1), 1.5, 25.0))
    xy = coords[list(UMAP_COLUMNS)].to_numpy(dtype=float)
    grey = (labels.map(colours) == OTHER_COLOUR).to_numpy()
    for layer, zorder in ((grey, 1), (~grey, 2)):
        rows = np.random.default_rng(seed).permutation(np.flatnonzero(layer))
        colour_list = [colours[name] for name in labels.to_numpy()[rows]]
        ax.scatter(xy[rows, 0], xy[rows, 1], c=colour_list, s=size, linewidths=0, zorder=zorder, rasterized=True)
    ax.legend(
        handles=_legend_handles(labels, colours),
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=7,
        title=color_col.removeprefix("Metadata_"),
        title_fontsize=8,
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("UMAP 1", fontsize=8)
    ax.set_ylabel("UMAP 2", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    if note:
        box = {"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "0.7", "alpha": 0.85}
        ax.text(0.02, 0.02, note, transform=ax.transAxes, fontsize=7, va="bottom", ha="left", bbox=box, zorder=5)
    return ax.figure


def _check_pair(coords: pd.DataFrame, profiles: pd.DataFrame, *, name: str) -> None:
    """Raise unless ``coords`` and ``profiles`` hold the same rows (same metadata, same order)."""
    meta = metadata_columns(profiles)
    if len(coords) != len(profiles) or metadata_columns(coords) != meta:
        raise ValueError(
            f"{name}: UMAP coordinates ({len(coords)} rows) and profiles ({len(profiles)} rows) "
            "must have the same rows and Metadata_ columns"
        )
    left = coords[meta].reset_index(drop=True)
    if not left.equals(profiles[meta].reset_index(drop=True)):
        raise ValueError(f"{name}: UMAP coordinates and profiles list different rows (metadata differ)")


def _labelled_silhouette(
    profiles: pd.DataFrame, labels: pd.Series, *, keep: np.ndarray, sample_size: int | None
) -> float:
    """Cosine silhouette of ``labels`` on the features of the ``keep`` rows of ``profiles``."""
    table = profiles[feature_columns(profiles)].reset_index(drop=True)
    table.insert(0, _LABEL_COL, labels.to_numpy())
    return silhouette(table.loc[keep], label_col=_LABEL_COL, sample_size=sample_size)


def panel_silhouette(
    profiles: pd.DataFrame, *, by: str, classes: Sequence[str] = (), sample_size: int | None = 5000
) -> tuple[float, str]:
    """The cosine silhouette a UMAP panel coloured by ``by`` reports, and what it was computed on.

    ``by="localisation"`` uses the single-label HPA fields and their class, only those of ``classes``
    when given (the highlighted clusters of Figure A); any other value is a metadata column, whose rows
    without a value (wells of a compound without an MoA annotation) are left out and counted in what is
    returned. The silhouette is computed on the embedding features, not on the 2-D map.
    """
    if by == "localisation":
        labels = localisation_labels(profiles)
        keep = (labels != MULTI_LABEL).to_numpy()
        what = "localisation, single-label fields"
        if classes:
            keep = keep & labels.isin(classes).to_numpy()
            what += f" of the {len(classes)} highlighted classes"
    elif classes:
        raise ValueError(f"panel_silhouette: classes select localisation classes; not valid with by={by!r}")
    else:
        if by not in profiles.columns:
            require_metadata(profiles, [by], source="panel_silhouette")  # names the column and the present ones
        labels, keep, what = profiles[by].astype(str), profiles[by].notna().to_numpy(), by.removeprefix("Metadata_")
        if not keep.all():
            what += f", {int((~keep).sum())} rows without one left out"
    return _labelled_silhouette(profiles, labels, keep=keep, sample_size=sample_size), what


def _silhouettes(
    profiles: pd.DataFrame, *, by: str, highlight: tuple[str, ...], sample_size: int | None
) -> list[tuple[str, float]]:
    """The silhouettes a panel coloured by ``by`` prints, as ``(what, value)``: one, or for localisation with
    ``highlight`` classes, a second on those classes only."""
    score, what = panel_silhouette(profiles, by=by, sample_size=sample_size)
    scores = [(what, score)]
    if by == "localisation" and highlight:
        score, what = panel_silhouette(profiles, by=by, classes=highlight, sample_size=sample_size)
        scores.append((what, score))
    return scores


def _panel(
    ax: Axes,
    coords: pd.DataFrame,
    profiles: pd.DataFrame,
    *,
    by: str,
    title: str,
    highlight: tuple[str, ...] = (),
    sample_size: int | None,
    silhouettes: list[tuple[str, float]] | None = None,
) -> None:
    """One UMAP panel coloured by column ``by`` (``"localisation"``: HPA labels), with its silhouettes: the
    ``(what, value)`` pairs given, or computed on ``profiles``."""
    _check_pair(coords, profiles, name=f"panel {title!r}")
    if silhouettes is None:
        silhouettes = _silhouettes(profiles, by=by, highlight=highlight, sample_size=sample_size)
    (what, score), *more = silhouettes
    note = "\n".join([f"silhouette ({what}, cosine): {score:.3f}", *(f"{w}: {v:.3f}" for w, v in more)])
    if by == "localisation":
        labels = localisation_labels(coords)
        coords, by = coords.assign(**{labels.name: labels}), labels.name
    elif by in coords.columns and coords[by].isna().any():
        coords = coords.assign(**{by: coords[by].fillna(NO_VALUE)})
    plot_umap(coords, color_col=by, highlight=highlight, title=title, ax=ax, note=note)


def _letter(ax: Axes, letter: str) -> None:
    ax.text(-0.06, 1.04, letter, transform=ax.transAxes, fontsize=14, fontweight="bold", va="bottom", ha="right")


def figure_a(
    coords_after: pd.DataFrame,
    *,
    profiles: pd.DataFrame,
    highlight: tuple[str, ...] = FIGURE_A_CLASSES,
    title: str = "Cell-DINO, HPA-FoV after batch correction",
    silhouette_sample: int | None = 5000,
) -> Figure:
    """Supplement Figure A: UMAP of corrected HPA embeddings, four localisation clusters highlighted.

    Parameters
    ----------
    coords_after
        UMAP of ``profiles`` (same rows), with ``Metadata_Target`` and ``Metadata_class_list``.
    profiles
        The corrected (e.g. Harmony) embeddings the UMAP was computed from; the silhouettes of the
        single-label localisation classes (all, and the ``highlight`` ones) are computed on their features.
    highlight
        Localisation classes drawn in colour (the supplement's nucleoplasm, cytosol, microtubules,
        mitochondria); the other fields are grey.
    title
        Panel title.
    silhouette_sample
        Rows sampled for the silhouette (``None``: all).

    Returns
    -------
    matplotlib.figure.Figure
        One panel.
    """
    figure, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    _panel(
        ax, coords_after, profiles, by="localisation", title=title, highlight=highlight, sample_size=silhouette_sample
    )
    return figure


def figure_b(
    coords_before: pd.DataFrame,
    *,
    profiles: pd.DataFrame,
    cell_line_col: str = "Metadata_cell_line",
    highlight: tuple[str, ...] = FIGURE_A_CLASSES,
    silhouette_sample: int | None = 5000,
) -> Figure:
    """Supplement Figure B: UMAP of uncorrected HPA embeddings, by cell line (A) and by localisation (B).

    Parameters
    ----------
    coords_before
        UMAP of ``profiles`` (same rows), with ``cell_line_col``, ``Metadata_Target``, ``Metadata_class_list``.
    profiles
        The uncorrected embeddings; both silhouettes are computed on their features.
    cell_line_col
        Cell line column (the dominant factor before correction).
    highlight
        Localisation classes drawn in colour in panel B, as in Figure A.
    silhouette_sample
        Rows sampled for the silhouettes (``None``: all).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels side by side: cell line, then localisation (the secondary factor).
    """
    figure, axes = plt.subplots(1, 2, figsize=(12.0, 4.6), layout="constrained")
    _panel(axes[0], coords_before, profiles, by=cell_line_col, title="by cell line", sample_size=silhouette_sample)
    _panel(
        axes[1],
        coords_before,
        profiles,
        by="localisation",
        title="by protein localisation",
        highlight=highlight,
        sample_size=silhouette_sample,
    )
    figure.suptitle("Cell-DINO, HPA-FoV before batch correction", fontsize=11)
    for ax, letter in zip(axes, "AB", strict=True):
        _letter(ax, letter)
    return figure


def figure_c(
    hpa_before: pd.DataFrame,
    hpa_after: pd.DataFrame,
    cp_cells_before: pd.DataFrame,
    cp_wells_after: pd.DataFrame,
    *,
    profiles: Sequence[pd.DataFrame],
    cell_line_col: str = "Metadata_cell_line",
    cp_batch_col: str = "Metadata_Plate",
    moa_col: str = "Metadata_moa",
    highlight: tuple[str, ...] = FIGURE_A_CLASSES,
    silhouette_sample: int | None = 5000,
    silhouettes: pd.DataFrame | None = None,
) -> Figure:
    """Supplement Figure C: HPA (left) and Cell Painting (right), unprocessed (top) and transformed (bottom).

    Panels as in the supplement: A HPA FoVs before Harmony by cell line, B Cell Painting single
    cells before aggregation by plate or batch, C HPA after Harmony by localisation, D sphered
    Cell Painting well profiles by mechanism of action.

    Parameters
    ----------
    hpa_before, hpa_after, cp_cells_before, cp_wells_after
        UMAP coordinates of the four embeddings (:func:`~celldino_utils.plot.umap.umap_embedding`).
    profiles
        The four profile tables the UMAPs were computed from, in the same order; each panel's
        silhouette is computed on their features.
    cell_line_col, cp_batch_col, moa_col
        Colouring columns of panels A, B and D (panel C uses the HPA localisation labels).
    highlight
        Localisation classes drawn in colour in panel C.
    silhouette_sample
        Rows sampled for each silhouette (``None``: all).
    silhouettes
        The panels' silhouettes as :func:`figure_c_silhouettes` returns them for ``profiles`` (computed when None;
        pass them when the notebook needs the table too, so that they are computed once).

    Returns
    -------
    matplotlib.figure.Figure
        A 2 x 2 grid of panels lettered A-D.
    """
    _check_four(profiles, source="figure_c")
    figure, axes = plt.subplots(2, 2, figsize=(12.5, 9.0), layout="constrained")
    coords = {"A": hpa_before, "B": cp_cells_before, "C": hpa_after, "D": cp_wells_after}
    grid = {"A": axes[0, 0], "B": axes[0, 1], "C": axes[1, 0], "D": axes[1, 1]}
    colouring = {"cell_line_col": cell_line_col, "cp_batch_col": cp_batch_col, "moa_col": moa_col}
    if silhouettes is None:
        silhouettes = figure_c_silhouettes(
            profiles, highlight=highlight, silhouette_sample=silhouette_sample, **colouring
        )
    for letter, (i, by, title, strong) in _figure_c_panels(highlight=highlight, **colouring).items():
        printed = silhouettes[silhouettes["panel"] == letter]
        _panel(
            grid[letter],
            coords[letter],
            profiles[i],
            by=by,
            title=title,
            highlight=strong,
            sample_size=silhouette_sample,
            silhouettes=list(zip(printed["coloured_by"], printed["silhouette"], strict=True)),
        )
        _letter(grid[letter], letter)
    return figure


def _check_four(profiles: Sequence[pd.DataFrame], *, source: str) -> None:
    if len(profiles) != 4:
        raise ValueError(f"{source}: profiles must hold the 4 profile tables of the 4 panels, got {len(profiles)}")


def _figure_c_panels(
    *, cell_line_col: str, cp_batch_col: str, moa_col: str, highlight: Sequence[str]
) -> dict[str, tuple[int, str, str, tuple[str, ...]]]:
    """Figure C's panels by letter: (index of its profile table, colouring, title, highlighted classes).

    Profile tables come as HPA before, HPA after, Cell Painting before, Cell Painting after.
    """
    return {
        "A": (0, cell_line_col, "HPA-FoV, unprocessed", ()),
        "B": (2, cp_batch_col, "Cell Painting single cells, unprocessed", ()),
        "C": (1, "localisation", "HPA-FoV after Harmony", tuple(highlight)),
        "D": (3, moa_col, "Cell Painting wells, aggregated and sphered", ()),
    }


def figure_c_silhouettes(
    profiles: Sequence[pd.DataFrame],
    *,
    cell_line_col: str = "Metadata_cell_line",
    cp_batch_col: str = "Metadata_Plate",
    moa_col: str = "Metadata_moa",
    highlight: tuple[str, ...] = FIGURE_A_CLASSES,
    silhouette_sample: int | None = 5000,
) -> pd.DataFrame:
    """The silhouettes Figure C prints on its panels, without the maps: to set other feature sets beside them.

    Parameters
    ----------
    profiles
        The four profile tables of :func:`figure_c`, in its order (HPA before, HPA after, Cell Painting before,
        Cell Painting after); arguments as there.

    Returns
    -------
    pandas.DataFrame
        One row per printed silhouette: ``panel`` (letter), ``coloured_by`` (what the silhouette groups) and
        ``silhouette`` (cosine, on the features).
    """
    _check_four(profiles, source="figure_c_silhouettes")
    colouring = {"cell_line_col": cell_line_col, "cp_batch_col": cp_batch_col, "moa_col": moa_col}
    rows = [
        {"panel": letter, "coloured_by": what, "silhouette": value}
        for letter, (i, by, _, strong) in _figure_c_panels(highlight=highlight, **colouring).items()
        for what, value in _silhouettes(profiles[i], by=by, highlight=strong, sample_size=silhouette_sample)
    ]
    return pd.DataFrame(rows).sort_values("panel", kind="stable", ignore_index=True)
