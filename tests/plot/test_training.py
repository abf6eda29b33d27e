"""Training-log figure: losses and the collapse alarm, one row per run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from celldino_utils.plot import plot_training_logs


def _log(steps: int, k: int) -> pd.DataFrame:
    step = np.arange(steps)
    return pd.DataFrame(
        {"step": step, "loss": 10 - 0.1 * step, "dino": 7 - 0.05 * step, "teacher_entropy": 4 + 0.01 * step}
        | {"log_n_prototypes": np.log(k)}
    )


def test_one_row_per_run_with_log_k_beside_the_entropy() -> None:
    figure = plot_training_logs({"HPA": _log(5, 1024), "Cell Painting": _log(3, 128)})
    axes = figure.axes
    assert len(axes) == 4 and axes[0].get_title() == "HPA: losses"
    assert [line.get_label() for line in axes[0].lines] == ["loss", "dino"]  # terms the log has, no others
    log_k = [line for line in axes[3].lines if line.get_label() == "log K"]
    assert len(log_k) == 1 and log_k[0].get_ydata()[0] == pytest.approx(np.log(128))


def test_missing_columns_and_no_logs_are_named() -> None:
    with pytest.raises(ValueError, match="teacher_entropy"):
        plot_training_logs({"HPA": _log(3, 8).drop(columns="teacher_entropy")})
    with pytest.raises(ValueError, match="no training log"):
        plot_training_logs({})
