from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from celldino_utils.runner import NotebookFailed, run_series

from ..conftest import ROOT


def _project(tmp_path: Path, source: str) -> Path:
    (tmp_path / "configs" / "profiles").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    profile = "name: p\npaths:\n  executed: out/executed\n  figures: out/figures\nnotebooks:\n  00_fail: {x: 2}\n"
    (tmp_path / "configs" / "profiles" / "p.yaml").write_text(profile)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("x = 1")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Fails"), parameters, nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, tmp_path / "notebooks" / "00_fail.ipynb")
    return tmp_path


def test_failing_notebook_is_named_with_its_cell(tmp_path: Path) -> None:
    root = _project(tmp_path, "raise RuntimeError(f'broken with x={x}')")
    with pytest.raises(NotebookFailed, match=r"00_fail.ipynb failed in cell .*RuntimeError: broken with x=2"):
        run_series("p", root=root)
    manifest = json.loads((root / "out" / "figures" / "run_manifest.json").read_text())
    assert manifest["notebooks"]["00_fail"]["status"] == "failed"


def test_profile_is_validated_before_anything_runs(tmp_path: Path) -> None:
    root = _project(tmp_path, "open('ran.txt', 'w').write('ran')")
    profile = root / "configs" / "profiles" / "p.yaml"
    profile.write_text(profile.read_text().replace("{x: 2}", "{x: '2'}"))
    with pytest.raises(ValueError, match=r"00_fail.ipynb: parameter 'x' must be int"):
        run_series("p", root=root)
    assert not (root / "ran.txt").exists()


def test_unknown_notebook_in_only() -> None:
    with pytest.raises(ValueError, match=r"unknown notebook\(s\) \['99_nothing'\]"):
        run_series("tiny", root=ROOT, only=["99_nothing"])


def test_a_partial_run_keeps_the_record_of_the_other_notebooks(tmp_path: Path) -> None:
    (tmp_path / "configs" / "profiles").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    profile = "name: p\npaths:\n  executed: out/executed\n  figures: out/figures\nnotebooks:\n  00_a: {}\n  01_b: {}\n"
    (tmp_path / "configs" / "profiles" / "p.yaml").write_text(profile)
    for stem in ("00_a", "01_b"):
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        parameters = nbformat.v4.new_code_cell("x = 1")
        parameters.metadata["tags"] = ["parameters"]
        notebook.cells = [nbformat.v4.new_markdown_cell(f"# {stem}"), parameters]
        nbformat.write(notebook, tmp_path / "notebooks" / f"{stem}.ipynb")
    first = run_series("p", root=tmp_path)
    second = run_series("p", root=tmp_path, only=["01_b"])
    written = json.loads((tmp_path / "out" / "figures" / "run_manifest.json").read_text())
    assert list(written["notebooks"]) == ["00_a", "01_b"] == list(second["notebooks"])
    kept = written["notebooks"]["00_a"]
    assert kept["earlier_run"]["started"] == first["started"] and kept["status"] == "ok"
    assert "earlier_run" not in written["notebooks"]["01_b"]
