"""The Jupyter Book builds from the papermill-executed notebooks, with warnings as errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def test_book_builds_from_the_tiny_run(tiny_run: tuple[Path, dict], tmp_path: Path) -> None:
    data_root, _ = tiny_run
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("executed"))
    shutil.copytree(data_root / "tiny" / "executed", tmp_path / "book" / "executed")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(tmp_path), "--warningiserror", "--keep-going"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = (tmp_path / "_build" / "html" / "book" / "executed" / "00_data.html").read_text()
    assert "<img" in page and "Traceback" not in page
