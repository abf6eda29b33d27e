"""Figures A-D render on toy tables, with the expected panels and a silhouette annotation (no UMAP run)."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from celldino_utils.evaluate import silhouette
from celldino_utils.evaluate.heterogeneity import heterogeneity_score
from celldino_utils.io.channels import CELLPAINTING, HPA_KAGGLE
from celldino_utils.io.profiles import to_profiles, with_features
from celldino_utils.plot import (
    FIGURE_A_CLASSES,
    cluster_order,
    figure_a,
    figure_b,
    figure_c,
    figure_c_silhouettes,
    figure_d,
    localisation_labels,
    panel_silhouette,
    plot_umap,
)
from celldino_utils.plot.umap import UMAP_COLUMNS

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _hpa(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """HPA-like fields: 3 cell lines, targets from the 2018 list (some multi-label), 8 features."""
    rng = np.random.default_rng(seed)
    targets = rng.choice(["0", "25", "14", "23", "7", "0 25"], size=n)
    lines = rng.choice(["U2OS", "A431", "HEK293"], size=n)
    codes = pd.factorize(targets)[0] + 3 * pd.factorize(lines)[0]
    values = rng.normal(size=(20, 8))[codes] + 0.3 * rng.normal(size=(n, 8))
    meta = pd.DataFrame({"Id": np.arange(n), "Target": targets, "class_list": "hpa-kaggle-2018", "cell_line": lines})
    return to_profiles(meta, values)


def _cp(n: int = 90, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    meta = pd.DataFrame({"Plate": rng.choice(["P1", "P2", "P3"], size=n), "moa": rng.choice(list("abcd"), size=n)})
    return to_profiles(meta, rng.normal(size=(n, 6)))


def _coords(profiles: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Stand-in for a UMAP: the first two features plus jitter."""
    jitter = np.random.default_rng(seed).normal(scale=0.1, size=(len(profiles), 2))
    return with_features(profiles, profiles[["emb_0000", "emb_0001"]].to_numpy() + jitter, names=UMAP_COLUMNS)


def _texts(figure: matplotlib.figure.Figure) -> list[str]:
    return [t.get_text() for ax in figure.axes for t in ax.texts]


def test_localisation_labels_single_and_multi() -> None:
    assert localisation_labels(_hpa().iloc[:0]).empty
    table = pd.DataFrame({"Metadata_Target": ["0", "25", "0 25"], "Metadata_class_list": "hpa-kaggle-2018"})
    assert localisation_labels(table).tolist() == ["Nucleoplasm", "Cytosol", "multi-label"]
    newer = pd.DataFrame({"Metadata_Target": ["0", "13"], "Metadata_class_list": "hpa-kaggle-2021"})
    assert localisation_labels(newer).tolist() == ["Nucleoplasm", "Plasma membrane"]
    with pytest.raises(ValueError, match="class indices"):
        localisation_labels(table.assign(Metadata_class_list="hpa-kaggle-2021"))  # 25 >= the 19 classes of 2021
    with pytest.raises(ValueError, match="unknown class list"):
        localisation_labels(table.assign(Metadata_class_list="nope"))


def test_plot_umap_highlight_and_legend() -> None:
    coords = _coords(_hpa()).assign(Metadata_localisation=lambda t: localisation_labels(t))
    figure = plot_umap(coords, color_col="Metadata_localisation", highlight=("Nucleoplasm", "Cytosol"), title="t")
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("Nucleoplasm (") and labels[1].startswith("Cytosol (")
    assert labels[2].startswith("other, 4 groups")
    assert len(labels) == 3
    many = coords.assign(Metadata_many=np.arange(len(coords)) % 30)
    legend = plot_umap(many, color_col="Metadata_many", title="t", max_categories=10).axes[0].get_legend()
    assert len(legend.get_texts()) == 10  # 9 largest categories + "other"
    with pytest.raises(ValueError, match="Metadata_nope"):
        plot_umap(coords, color_col="Metadata_nope", title="t")


def test_figure_a_annotates_the_localisation_silhouette() -> None:
    profiles = _hpa()
    figure = figure_a(_coords(profiles), profiles=profiles, silhouette_sample=None)
    assert len(figure.axes) == 1
    (note,) = [t for t in _texts(figure) if "silhouette" in t]
    single = profiles.assign(Metadata_loc=localisation_labels(profiles)).query("Metadata_loc != 'multi-label'")
    assert f"{silhouette(single, label_col='Metadata_loc'):.3f}" in note
    highlighted = single[single["Metadata_loc"].isin(FIGURE_A_CLASSES)]
    assert set(single["Metadata_loc"]) - set(highlighted["Metadata_loc"]) == {"Golgi apparatus"}  # class 7
    assert f"highlighted classes: {silhouette(highlighted, label_col='Metadata_loc'):.3f}" in note


def test_panel_silhouette_classes_only_for_localisation() -> None:
    profiles = _hpa()
    _, what = panel_silhouette(profiles, by="localisation", classes=("Nucleoplasm", "Cytosol"))
    assert what == "localisation, single-label fields of the 2 highlighted classes"
    with pytest.raises(ValueError, match="Metadata_cell_line"):
        panel_silhouette(profiles, by="Metadata_cell_line", classes=("Nucleoplasm",))


def test_figure_b_has_cell_line_and_localisation_panels() -> None:
    profiles = _hpa()
    figure = figure_b(_coords(profiles), profiles=profiles)
    assert len(figure.axes) == 2
    notes = [t for t in _texts(figure) if "silhouette" in t]
    assert len(notes) == 2 and "cell_line" in notes[0] and "localisation" in notes[1]
    assert f"{silhouette(profiles, label_col='Metadata_cell_line'):.3f}" in notes[0]
    assert {"A", "B"} <= set(_texts(figure))


def test_figure_c_four_lettered_panels() -> None:
    hpa, cp = _hpa(), _cp()
    tables = [hpa, hpa.copy(), cp, cp.copy()]
    figure = figure_c(*(_coords(t) for t in tables), profiles=tables)
    assert len(figure.axes) == 4
    assert len([t for t in _texts(figure) if "silhouette" in t]) == 4
    assert {"A", "B", "C", "D"} <= set(_texts(figure))
    assert "Plate" in figure.axes[1].get_legend().get_title().get_text()
    with pytest.raises(ValueError, match="4 profile tables"):
        figure_c(*(_coords(t) for t in tables), profiles=tables[:3])
    scores = figure_c_silhouettes(tables)  # what the panels print, for other feature sets to stand beside
    assert list(scores["panel"]) == ["A", "B", "C", "C", "D"]
    for ax, (panel, rows) in zip(figure.axes, scores.groupby("panel"), strict=True):
        printed = " ".join(text.get_text() for text in ax.texts)
        assert all(f"{value:.3f}" in printed for value in rows["silhouette"]), panel
    with pytest.raises(ValueError, match="4 profile tables"):
        figure_c_silhouettes(tables[:3])
    given = scores.assign(silhouette=[0.111, 0.222, 0.333, 0.444, 0.555])  # printed as given, not computed again
    figure = figure_c(*(_coords(t) for t in tables), profiles=tables, silhouettes=given)
    assert all(f"{value:.3f}" in " ".join(_texts(figure)) for value in given["silhouette"])


def test_figures_refuse_coordinates_of_other_rows() -> None:
    profiles = _hpa()
    with pytest.raises(ValueError, match="same rows"):
        figure_a(_coords(profiles).iloc[1:], profiles=profiles)
    shuffled = _coords(profiles).iloc[::-1]
    with pytest.raises(ValueError, match="metadata differ"):
        figure_a(shuffled, profiles=profiles)


def _figure_d_inputs(n: int = 12) -> tuple[dict, dict, pd.DataFrame]:
    rng = np.random.default_rng(2)
    cells, crops = {}, {}
    for k, name in enumerate(["EFHC2", "PSTPIP2", "NUSAP1"]):
        values = rng.normal(size=10) + (0.05 + 0.4 * k) * rng.normal(size=(n, 10))
        cells[name] = to_profiles(pd.DataFrame({"antibody": [name] * n}), values)
        crops[name] = rng.integers(0, 255, size=(n, 4, 16, 16)).astype(np.uint8)
    scores = heterogeneity_score(pd.concat(cells.values(), ignore_index=True))
    return cells, crops, scores


def test_figure_d_panels_and_scores() -> None:
    cells, crops, scores = _figure_d_inputs()
    figure = figure_d(cells, crops, layout=HPA_KAGGLE, scores=scores, n_crops=5, n_outliers=2)
    assert len(figure.axes) == 3 * (1 + 2 * 5) + 1  # per protein a matrix and 2 x 5 crops, plus a colour bar
    titles = [ax.get_title() for ax in figure.axes if "heterogeneity" in ax.get_title()]
    assert len(titles) == 3 and titles[0].startswith("EFHC2")
    value = scores.set_index("Metadata_antibody").loc["NUSAP1", "heterogeneity"]
    assert f"{value:.3f}" in titles[2]


def test_figure_d_bad_input_raises() -> None:
    cells, crops, scores = _figure_d_inputs()
    with pytest.raises(ValueError, match="proteins differ"):
        figure_d(cells, {"EFHC2": crops["EFHC2"]}, layout=HPA_KAGGLE, scores=scores)
    with pytest.raises(ValueError, match="no protein channel"):
        figure_d(cells, crops, layout=CELLPAINTING, scores=scores)
    bad = crops | {"EFHC2": crops["EFHC2"][:-1]}
    with pytest.raises(ValueError, match="EFHC2"):
        figure_d(cells, bad, layout=HPA_KAGGLE, scores=scores)
    with pytest.raises(ValueError, match="NUSAP1"):
        figure_d(cells, crops, layout=HPA_KAGGLE, scores=scores.query("Metadata_antibody != 'NUSAP1'"))
    with pytest.raises(ValueError, match="n_outliers"):
        figure_d(cells, crops, layout=HPA_KAGGLE, scores=scores, n_crops=2, n_outliers=2)


def test_cluster_order_groups_blocks() -> None:
    blocks = np.kron(np.eye(2), np.ones((3, 3))) * 0.9 + 0.1
    shuffle = np.array([0, 3, 1, 4, 2, 5])
    order = cluster_order(blocks[np.ix_(shuffle, shuffle)])
    assert sorted(order.tolist()) == list(range(6))
    first = set(shuffle[order[:3]].tolist())
    assert first in ({0, 1, 2}, {3, 4, 5})
