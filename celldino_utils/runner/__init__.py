"""The papermill runner: check a profile's inputs, execute the notebook series of a profile and record the run.

Top layer (with ``chapters`` and the command line): may import every other part. The check of a profile
(:mod:`~celldino_utils.runner.profile_check`) imports neither torch nor papermill; the execution loads papermill
on first use of :func:`run_series`.
"""

from celldino_utils.runner.inputs import MissingInputs
from celldino_utils.runner.profile_check import check_series, series_notebooks

# Papermill (through nbformat and jsonschema) takes seconds to import: the series loads on first use.
_SERIES_NAMES = ("NotebookFailed", "UndeclaredRead", "UndeclaredWrite", "check_profile", "run_series")


def __getattr__(name: str) -> object:
    if name in _SERIES_NAMES:
        from celldino_utils.runner import series

        return getattr(series, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MissingInputs",
    "NotebookFailed",
    "UndeclaredRead",
    "UndeclaredWrite",
    "check_profile",
    "check_series",
    "run_series",
    "series_notebooks",
]
