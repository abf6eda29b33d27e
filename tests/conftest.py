"""Fixtures shared by the whole suite: a papermill run of the series on the tiny profile."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ("tests.layouts",)

ROOT = Path(__file__).resolve().parents[1]
BOOK_REPOSITORY = "https://github.com/example-lab/celldino-companion"  # where the tiny book says it comes from

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Two pytest workers and the notebook kernels they start share the cores: OpenMP threads that spin while waiting
# then take the cores from each other. Threads that sleep instead made the suite 35% faster on 2 cores. Set before
# torch is imported, and inherited by the worker processes and the kernels.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The files that take minutes, longest first: the two papermill series, then the ViT-L parity checks. Collected
# first, and with pytest-xdist keeping the collection's order of files (--no-loadscope-reorder in pyproject.toml),
# each starts on its own worker at once and the short files fill the cores around them; by its default order (most
# tests first) xdist started both series last, and the suite took 12 minutes on 2 cores.
SLOW_FILES = ("test_tiny_run.py", "test_paper_run.py", "test_released_parity.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the tests of :data:`SLOW_FILES` first, in that order; the others keep theirs."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOW_FILES.index(name) if name in SLOW_FILES else len(SLOW_FILES)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Run every notebook of the series on the tiny profile, data and outputs under a temporary root.

    Weights made by the parity rule stand in for the released Cell Painting model at its default path, so the
    adoption guide's step with a released model runs (the published book skips it without real weights).
    """
    from celldino_utils.runner import run_series

    from .models.released_fixtures import parity_cases, save_official_weights

    data_root = tmp_path_factory.mktemp("tiny_run")
    released = data_root / "checkpoints" / "released"
    released.mkdir(parents=True)
    save_official_weights(parity_cases()["cell_dino_cp_vits8"], released)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CELLDINO_DATA_ROOT", str(data_root))
        manifest = run_series("tiny", root=ROOT, strict=True)  # a write the declarations miss fails it
    return data_root, manifest


@pytest.fixture(scope="session")
def tiny_book(tiny_run: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess:
    """The Jupyter Book built (warnings as errors) from the tiny run's executed notebooks; ``cwd`` is its source."""
    data_root, _ = tiny_run
    source = tmp_path_factory.mktemp("book")
    from celldino_utils.runner.book import write_book_config

    shutil.copy(ROOT / "_toc.yml", source / "_toc.yml")
    write_book_config(ROOT, source / "_config.yml", repository=BOOK_REPOSITORY)
    shutil.copytree(ROOT / "book", source / "book", ignore=shutil.ignore_patterns("executed"))
    shutil.copytree(data_root / "tiny" / "executed", source / "book" / "executed")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(source), "--warningiserror", "--keep-going"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=source)
    return result
