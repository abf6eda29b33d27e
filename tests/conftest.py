"""Fixtures shared by the whole suite: a papermill run of the series on the tiny profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Run every notebook of the series on the tiny profile, data and outputs under a temporary root."""
    from celldino_utils.runner import run_series

    data_root = tmp_path_factory.mktemp("tiny_run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CELLDINO_DATA_ROOT", str(data_root))
        manifest = run_series("tiny", root=ROOT)
    return data_root, manifest
