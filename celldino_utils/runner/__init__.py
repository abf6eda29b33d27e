"""The papermill runner: check a profile's inputs, execute the notebook series of a profile and record the run.

Top layer (with ``chapters`` and the command line): may import every other part.
"""

from celldino_utils.runner.inputs import MissingInputs
from celldino_utils.runner.series import NotebookFailed, check_profile, run_series, series_notebooks

__all__ = ["MissingInputs", "NotebookFailed", "check_profile", "run_series", "series_notebooks"]
