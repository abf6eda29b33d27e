"""Training logs: the loss terms and the collapse alarm of each run, one row of panels per run."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from celldino_utils.io.tables import require_columns

#: Loss columns of a training log (``celldino_utils.train.read_log``) drawn when present.
LOSS_TERMS: tuple[str, ...] = ("loss", "dino", "ibot", "koleo")


def plot_training_logs(logs: dict[str, pd.DataFrame]) -> Figure:
    """Per run, the total loss and its terms against the step, and the teacher's entropy against log K.

    Parameters
    ----------
    logs : dict of str to pandas.DataFrame
        Run name to its per-step log: ``step``, ``teacher_entropy`` (mean per-sample entropy of the teacher's
        targets, nats), ``log_n_prototypes`` and the loss terms of ``LOSS_TERMS`` it has.

    Returns
    -------
    matplotlib.figure.Figure
        One row per run: losses on the left; on the right the entropy, with log K dashed (where a collapsed,
        uniform teacher ends).
    """
    if not logs:
        raise ValueError("plot_training_logs: no training log given")
    for name, log in logs.items():
        require_columns(log, ["step", "teacher_entropy", "log_n_prototypes"], source=f"plot_training_logs({name!r})")
    figure, axes = plt.subplots(len(logs), 2, figsize=(11, 3 * len(logs)), squeeze=False, layout="constrained")
    for row, (name, log) in enumerate(logs.items()):
        terms = [term for term in LOSS_TERMS if term in log]
        log.plot(x="step", y=terms, ax=axes[row, 0], title=f"{name}: losses")
        log.plot(x="step", y="teacher_entropy", ax=axes[row, 1], title=f"{name}: teacher entropy (nats)")
        axes[row, 1].axhline(log["log_n_prototypes"].iloc[0], color="grey", linestyle="--", label="log K")
        axes[row, 1].legend()
    return figure
