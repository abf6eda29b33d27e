"""The papermill runner: execute the notebook series of a profile and record the run."""

from celldino_utils.runner.series import NotebookFailed, run_series, series_notebooks

__all__ = ["NotebookFailed", "run_series", "series_notebooks"]
