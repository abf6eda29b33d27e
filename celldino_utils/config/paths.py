"""Resolve the paths that notebooks receive as parameters, wherever the notebook runs from.

Parameters hold paths relative to the project root (the folder with
``configs/profiles``): papermill runs notebooks there, JupyterLab runs them in
``notebooks/``. Absolute paths and ``~`` are used as given.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "CELLDINO_ROOT"


def project_root(start: str | Path | None = None) -> Path:
    """The project root: ``$CELLDINO_ROOT``, else the nearest folder above ``start`` with ``configs/profiles``."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).expanduser().resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "configs" / "profiles").is_dir():
            return folder
    raise FileNotFoundError(f"no project root (a folder with configs/profiles) above {here}; set {ROOT_ENV}")


def resolve_path(path: str | Path) -> Path:
    """An absolute path for a parameter value: absolute paths unchanged, relative ones under the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else project_root() / path
