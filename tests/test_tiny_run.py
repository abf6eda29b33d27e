"""The tiny profile end to end: every notebook run with papermill, the book built from them, every page in Chromium.

All tests of the session-wide tiny run live in this file, so that pytest-xdist (--dist loadfile) runs them on
one worker and the series runs once.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from celldino_utils.runner import run_series
from celldino_utils.runner.browser import check_book, find_chromium

from .conftest import BOOK_REPOSITORY, ROOT


def test_tiny_series_executes_and_records_the_run(tiny_run: tuple[Path, dict]) -> None:
    data_root, manifest = tiny_run
    assert {(e["status"], e["reason"]) for e in manifest["notebooks"].values()} == {("ran", "first run")}
    executed = nbformat.read(data_root / "tiny" / "executed" / "00_data.ipynb", as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert (data_root / "tiny" / "figures" / "data_hpa_by_class.png").stat().st_size > 0
    guide = nbformat.read(data_root / "tiny" / "executed" / "30_adoption_guide.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in guide.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert re.search(r"cell_dino_cp_vits8: \(\d+, 384\) \(cells x features\)", printed), printed[-2000:]
    own = nbformat.read(data_root / "tiny" / "executed" / "31_your_images.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in own.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "16 cells x 576 features -> own_plate_cells.h5ad" in printed, printed[-2000:]
    assert "HPA model, channels mapped: refused:" in printed and "missing ['protein']" in printed
    assert (data_root / "guide" / "tiny" / "own_plate_cells.h5ad").stat().st_size > 0
    curve = pd.read_csv(data_root / "tiny" / "figures" / "compute_curve.csv")
    trained = curve[curve["features"] == "celldino"]
    assert trained.groupby("score")["step"].apply(list).to_dict() == dict.fromkeys(curve["score"], [1.0, 2.0])
    assert trained.loc[trained["step"] == 1, "file"].str.startswith(str(data_root / "curve" / "tiny")).all()
    supervised = curve[curve["features"] == "supervised"]  # the ViT trained with the labels, beside the cell probe
    assert (
        len(supervised) == 1
        and supervised["step"].iloc[0] >= 1
        and supervised["score"].iloc[0] in set(trained["score"])
    )
    written = json.loads((data_root / "tiny" / "figures" / "run_manifest.json").read_text())
    assert written["profile"] == "tiny"
    assert written["notebooks"]["00_data"]["parameters"]["n_per_group"] == 1
    assert written["notebooks"]["00_data"]["wall_time_s"] > 0
    assert {"hpa_data", "cellpainting_data"} <= set(written["data"])
    assert written["packages"]["torch"] and written["git"]["commit"] is not None


def _output_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell shows as text: streams, errors and the text forms of its results."""
    texts = []
    for output in cell.get("outputs", []):
        texts += [output.get("text", ""), *output.get("traceback", [])]
        texts += [value for kind, value in output.get("data", {}).items() if kind.startswith("text/")]
    return "\n".join(texts)


def test_the_book_shows_each_parameter_once_and_no_path_of_the_machine(tiny_run: tuple[Path, dict]) -> None:
    data_root, _ = tiny_run
    for executed in sorted((data_root / "tiny" / "executed").glob("*.ipynb")):
        notebook = nbformat.read(executed, as_version=4)
        tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
        assert sum("parameters" in t for t in tags) == 1 and not any("injected-parameters" in t for t in tags)
        shown = "\n".join(_output_text(cell) for cell in notebook.cells if cell.cell_type == "code")
        assert "PosixPath(" not in shown and str(ROOT) not in shown, executed.name
    data = nbformat.read(data_root / "tiny" / "executed" / "00_data.ipynb", as_version=4)
    parameters = next(cell.source for cell in data.cells if "parameters" in cell.metadata.get("tags", []))
    assert "n_per_group = 1" in parameters.splitlines() and "# profile whose synthetic settings" in parameters


def test_book_builds_from_the_tiny_run(tiny_book: subprocess.CompletedProcess) -> None:
    assert tiny_book.returncode == 0, tiny_book.stdout[-3000:] + tiny_book.stderr[-3000:]
    html = Path(tiny_book.args[2]) / "_build" / "html"
    page = (html / "book" / "executed" / "00_data.html").read_text()
    assert "<img" in page and "Traceback" not in page
    intro = (html / "book" / "intro.html").read_text()
    assert f"https://mybinder.org/v2/gh/{BOOK_REPOSITORY.removeprefix('https://github.com/')}/main" in intro
    assert f'href="{BOOK_REPOSITORY}"' in page  # the repository button of the theme


@pytest.mark.skipif(
    find_chromium() is None, reason="Chromium is not installed (apt-get install chromium); .ci/run installs it"
)
def test_every_page_renders_in_chromium(
    tiny_book: subprocess.CompletedProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    html = Path(tiny_book.args[2]) / "_build" / "html"
    screenshots = tmp_path_factory.mktemp("screenshots")
    reports = check_book(html, screenshots=screenshots)
    assert {Path(r.page).name for r in reports} >= {"index.html", "intro.html", "00_data.html"}
    assert {r.page: r.problems for r in reports if r.problems} == {}
    shot = next(r.screenshot for r in reports if r.page.endswith("00_data.html"))
    assert Path(shot).stat().st_size > 10_000


@pytest.mark.skipif(
    find_chromium() is None, reason="Chromium is not installed (apt-get install chromium); .ci/run installs it"
)
def test_broken_pages_are_caught(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=page.html" />')
    body = '<img src="missing.png"><a href="nowhere.html">x</a><pre>Traceback (most recent call last):</pre>'
    (tmp_path / "page.html").write_text(f"<html><body>{body}</body></html>")
    reports = {Path(r.page).name: r.problems for r in check_book(tmp_path, screenshots=tmp_path / "shots")}
    assert reports["index.html"] == []
    assert set(reports["page.html"]) == {
        "shows 'Traceback (most recent call last)'",
        "missing image missing.png",
        "broken link nowhere.html",
    }


def test_editing_a_table_notebook_reruns_it_and_what_reads_its_table(
    tiny_run: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last in this file: it rewrites table A and two executed notebooks of the shared tiny run (the same content).

    The checkout is a copy (the notebooks and profiles, one markdown cell edited); data and outputs are the
    tiny run's, so the manifest of that run decides what is up to date.
    """
    data_root, _ = tiny_run
    root = tmp_path / "checkout"
    for folder in ("configs", "notebooks"):
        shutil.copytree(ROOT / folder, root / folder)
    notebook = nbformat.read(root / "notebooks" / "10_table_A.ipynb", as_version=4)
    notebook.cells[0].source += "\n\nOne more sentence of explanation."
    nbformat.write(notebook, root / "notebooks" / "10_table_A.ipynb")
    monkeypatch.setenv("CELLDINO_DATA_ROOT", str(data_root))
    lines: list[str] = []
    rerun = run_series("tiny", root=root, progress=lines.append)
    outcome = {stem: entry.get("reason", entry["status"]) for stem, entry in rerun["notebooks"].items()}
    assert outcome == {
        **dict.fromkeys(rerun["notebooks"], "up to date"),
        "10_table_A": "notebook source changed",
        "14_results": f"input changed: {data_root / 'tiny' / 'figures' / 'table_A.csv'}",
    }
    assert lines[0].startswith(f"{len(outcome)} notebooks, 2 to run; about ")
    position = list(outcome).index("10_table_A") + 1
    assert f"[{position}/{len(outcome)}] 10_table_A: running (notebook source changed)" in lines
