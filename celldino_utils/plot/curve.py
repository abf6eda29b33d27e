"""The compute curve: scores against training steps, with the levels a model should clear drawn across."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from celldino_utils.io.tables import require_columns

_LEVEL_STYLES = ("--", ":", "-.")


def plot_compute_curve(curve: pd.DataFrame, *, names: dict[str, str] | None = None) -> Figure:
    """One panel per score: the trained model's value at each step, and each level as a horizontal line.

    Parameters
    ----------
    curve : pandas.DataFrame
        Rows ``score, features, step, value`` (:func:`celldino_utils.chapters.compute_curve`); rows without a
        step are levels, drawn across the panel and labelled with their value.
    names : dict of str to str, optional
        Display names of feature sets (``{"random": "ViT random init"}``); others keep their own.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, one column per score.
    """
    require_columns(curve, ["score", "features", "step", "value"], source="plot_compute_curve(curve)")
    names = names or {}
    scores = list(dict.fromkeys(curve["score"]))
    figure, axes = plt.subplots(1, len(scores), figsize=(5.5 * len(scores), 3.8), squeeze=False, layout="constrained")
    for ax, score in zip(axes[0], scores, strict=True):
        rows = curve[curve["score"] == score]
        steps = rows.dropna(subset=["step"]).sort_values("step")
        for features, points in steps.groupby("features", sort=False):
            label = names.get(features, features)
            ax.plot(points["step"], points["value"], marker="o", label=label)
            last = points.iloc[-1]
            ax.annotate(
                f"{last['value']:.3f}", (last["step"], last["value"]), textcoords="offset points", xytext=(4, 4)
            )
        levels = rows[rows["step"].isna()]
        for style, (_, level) in zip(_LEVEL_STYLES * len(levels), levels.iterrows(), strict=False):
            label = f"{names.get(level['features'], level['features'])} ({level['value']:.3f})"
            ax.axhline(level["value"], color="grey", linestyle=style, label=label)
        ax.set(title=textwrap.fill(score, 50), xlabel="training step", ylabel="score")
        ax.margins(y=0.15)  # room for the value labels
        if steps.empty:
            ax.set_xticks([])
            ax.set_xlabel("no kept backbones: levels only")
        else:
            ax.set_xlim(0, 1.08 * steps["step"].max())
        ax.legend(fontsize="small")
    return figure
