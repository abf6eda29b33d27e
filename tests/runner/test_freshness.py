from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

from celldino_utils.config.profiles import load_profile
from celldino_utils.io.stamps import path_stamp
from celldino_utils.runner.declarations import Access, Location, read_paths
from celldino_utils.runner.freshness import expected_runs, fingerprint, stale_reason
from celldino_utils.runner.notebook_code import notebook_defaults, notebook_source_hash, package_code
from celldino_utils.runner.profile_check import check_series, series_accesses, series_notebooks

from ..conftest import ROOT


def _notebook(path: Path, code: str, markdown: str = "# Title") -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell(code)]
    nbformat.write(notebook, path)
    return path


def test_source_hash_counts_cell_sources_not_outputs_ids_or_counts(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "a.ipynb", "x = 1")
    before = notebook_source_hash(path)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    notebook.cells[1].execution_count = 7
    notebook.cells[1].id = "rewritten-by-nbstripout"
    notebook.cells[1].metadata["tags"] = ["hide-input"]
    nbformat.write(notebook, path)
    assert notebook_source_hash(path) == before
    notebook.cells[0].source = "# Another title"
    nbformat.write(notebook, path)
    assert notebook_source_hash(path) != before


def test_defaults_the_profile_leaves_are_read_from_the_parameters_cell(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path / "n.ipynb", "")
    parameters = nbformat.v4.new_code_cell('config = "configs/train/x.yaml"  # a path\nn: int = 3\nf = len("x")')
    parameters.metadata["tags"] = ["parameters"]
    content = nbformat.read(notebook, as_version=4)
    content.cells.insert(1, parameters)
    nbformat.write(content, notebook)
    assert notebook_defaults(notebook) == {"config": "configs/train/x.yaml", "n": 3}


def test_the_weights_files_of_named_models_are_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELLDINO_CHECKPOINTS", str(tmp_path / "checkpoints"))
    released = tmp_path / "checkpoints" / "released"
    released.mkdir(parents=True)
    (released / "cell_dino_vits8_pretrain_cp-37d20e9c.pth").write_bytes(b"weights")
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "small.yaml").write_text("like: cell_dino_hpa_vitl16_fov\nweights: small.pth\n")
    (tmp_path / "train.yaml").write_text("optim:\n  epochs: 2\n")  # a YAML file that is no card
    params = {
        "pretrained": {"cellpainting": "cell_dino_cp_vits8", "hpa": "cards/small.yaml"},
        "config": "train.yaml",
        "plus_init": "dinov2_vits14",
        "cell_line": "U2OS",
        "checkpoint": "runs/hpa/teacher_backbone.pth",
    }
    assert read_paths(params, tmp_path) == [
        released / "cell_dino_vits8_pretrain_cp-37d20e9c.pth",
        tmp_path / "cards" / "small.yaml",
        tmp_path / "cards" / "small.pth",
        tmp_path / "train.yaml",
        released / "dinov2_vits14.pth",  # not there yet: where it is to be saved
        tmp_path / "U2OS",  # a parameter declared as read names paths only
        tmp_path / "runs" / "hpa",  # a checkpoint of ours: its run, with the config beside it
    ]
    access = Access(tuple(read_paths(params, tmp_path)), (), {})
    stamps = fingerprint(_notebook(tmp_path / "n.ipynb", "x = 1"), params, access, root=tmp_path)["inputs"]
    assert stamps["checkpoints/released/cell_dino_vits8_pretrain_cp-37d20e9c.pth"].startswith("size=7 ")
    assert stamps["cards/small.pth"] == stamps["checkpoints/released/dinov2_vits14.pth"] == "missing"


def _package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``fakepkg``: a imports .b, b imports fakepkg.c inside a function, sub imports ..c; d is imported by nothing."""
    package = tmp_path / "site" / "fakepkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import g\n")
    (package / "b.py").write_text("def g():\n    import fakepkg.c\n    return fakepkg.c\n")
    (package / "c.py").write_text("import os\n")
    (package / "d.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from ..c import os as _os\nfrom . import e\n")
    (package / "sub" / "e.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return package


def test_package_code_follows_imports_without_importing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package(tmp_path, monkeypatch)
    notebook = _notebook(tmp_path / "n.ipynb", "%matplotlib inline\nimport numpy\nfrom fakepkg.a import g")
    assert list(package_code(notebook, package="fakepkg")) == [
        "fakepkg/__init__.py",
        "fakepkg/a.py",
        "fakepkg/b.py",
        "fakepkg/c.py",
    ]
    other = _notebook(tmp_path / "m.ipynb", "import fakepkg.sub")
    assert list(package_code(other, package="fakepkg")) == [
        "fakepkg/__init__.py",
        "fakepkg/c.py",
        "fakepkg/sub/__init__.py",
        "fakepkg/sub/e.py",
    ]
    assert "fakepkg" not in sys.modules


def test_package_code_of_a_real_notebook() -> None:
    code = package_code(ROOT / "notebooks" / "14_results.ipynb")
    assert {"celldino_utils/evaluate/protocols.py", "celldino_utils/io/tables.py", "celldino_utils/__init__.py"} <= set(
        code
    )
    assert not {"celldino_utils/runner/series.py", "celldino_utils/cli.py"} & set(code)
    assert "configs/train/default.yaml" in package_code(ROOT / "notebooks" / "01_train.ipynb")  # read by train code
    embed = package_code(ROOT / "notebooks" / "02_embed.ipynb")  # modules a package loads on first use count too
    assert {"celldino_utils/models/backbone.py", "celldino_utils/config/device.py"} <= set(embed)


def test_stale_reasons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _package(tmp_path, monkeypatch)
    notebook = _notebook(tmp_path / "n.ipynb", "from fakepkg.a import g")
    (tmp_path / "in.txt").write_text("x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "t.csv").write_text("t")
    params = {"table": "in.txt", "out_dir": "out"}
    outputs = {"out/t.csv": path_stamp(tmp_path / "out" / "t.csv")}
    access = Access((tmp_path / "in.txt",), (Location(tmp_path / "out"),), {"synthetic": {"hpa": {"preset": "tiny"}}})
    last = fingerprint(notebook, params, access, root=tmp_path, outputs=outputs, package="fakepkg")
    assert last["inputs"] == {"in.txt": path_stamp(tmp_path / "in.txt")} and list(last["code"])[-1] == "fakepkg/c.py"
    previous = {"status": "ran", "fingerprint": last, "outputs": outputs}

    def reason() -> str | None:
        current = fingerprint(notebook, params, access, root=tmp_path, outputs=outputs, package="fakepkg")
        return stale_reason(previous, current, root=tmp_path)

    assert reason() is None
    (tmp_path / "out" / "other.png").write_text("another notebook's figure")
    assert reason() is None
    (package / "c.py").write_text("import sys\n")
    assert reason() == "package code changed: fakepkg/c.py"
    previous["fingerprint"]["code"] = package_code(notebook, package="fakepkg")
    stat = (tmp_path / "in.txt").stat()
    os.utime(tmp_path / "in.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert reason() == "input changed: in.txt"
    previous["fingerprint"]["inputs"] = {"in.txt": path_stamp(tmp_path / "in.txt")}
    (tmp_path / "out" / "t.csv").unlink()
    assert reason() == "output missing: out/t.csv"
    access.sections["synthetic"]["hpa"]["preset"] = "default"
    assert reason() == "profile section changed: synthetic"
    params["table"] = "in2.txt"
    assert reason() == "parameters changed"
    assert stale_reason(None, last, root=tmp_path) == "first run"
    assert stale_reason({"status": "failed"}, last, root=tmp_path) == "last run failed"


def test_expected_runs_follow_declared_writes_into_reads(tmp_path: Path) -> None:
    emb, figures = tmp_path / "emb", tmp_path / "figures"
    accesses = {
        "10_table_A": Access((emb / "a.parquet",), (Location(figures, "table_A.*"),), {}),
        "11_table_B": Access((emb / "a.parquet",), (Location(figures, "table_B.*"),), {}),
        "14_results": Access((figures / "table_A.csv", figures / "table_B.csv"), (), {}),
        "20_figure": Access((figures,), (Location(figures, "figure_A.*"),), {}),
        "21_figure": Access((emb,), (), {}),
    }
    reasons = {"10_table_A": "notebook source changed", **dict.fromkeys(list(accesses)[1:])}
    assert expected_runs(reasons, accesses) == ["10_table_A", "14_results", "20_figure"]
    assert expected_runs(dict.fromkeys(accesses), accesses) == []


def _tiny_fingerprints(profile: dict) -> tuple[dict, dict]:
    """The fingerprint of every notebook under ``profile`` (the tiny one, changed or not), and what each reads."""
    notebooks = series_notebooks(ROOT)
    accesses = series_accesses(profile, notebooks, ROOT)
    prints = {nb.stem: fingerprint(nb, profile["notebooks"][nb.stem], accesses[nb.stem], root=ROOT) for nb in notebooks}
    return prints, accesses


def _reruns(earlier: dict, now: dict, accesses: dict) -> tuple[list[str], list[str]]:
    """The notebooks stale now against ``earlier`` fingerprints, and those expected to run with them."""
    reasons = {
        stem: stale_reason({"status": "ran", "fingerprint": earlier[stem]}, now[stem], root=ROOT) for stem in now
    }
    return [stem for stem, reason in reasons.items() if reason], expected_runs(reasons, accesses)


def test_replacing_released_weights_reruns_exactly_what_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELLDINO_DATA_ROOT", str(tmp_path))
    weights = tmp_path / "checkpoints" / "released" / "cell_dino_cp_vits8.pth"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"weights")
    assert check_series("tiny", root=ROOT).declared_inputs == 0
    profile = load_profile("tiny", root=ROOT)
    earlier, accesses = _tiny_fingerprints(profile)
    assert _reruns(earlier, earlier, accesses) == ([], [])
    weights.write_bytes(b"other weights")
    stale, expected = _reruns(earlier, _tiny_fingerprints(profile)[0], accesses)
    assert stale == ["30_adoption_guide"]
    assert expected == ["30_adoption_guide", "31_your_images"]  # 31 reads the model that 30 trains


def test_changing_a_synthetic_setting_reruns_the_data_chapter_and_what_reads_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELLDINO_DATA_ROOT", str(tmp_path))
    profile = load_profile("tiny", root=ROOT)
    earlier, accesses = _tiny_fingerprints(profile)
    profile["synthetic"]["hpa"]["n_fields"] = 7
    stale, expected = _reruns(earlier, _tiny_fingerprints(profile)[0], accesses)
    assert stale == ["00_data"]
    hpa_data = tmp_path / "synthetic" / "tiny" / "hpa"
    readers = [stem for stem, access in accesses.items() if any(r.is_relative_to(hpa_data) for r in access.reads)]
    assert readers == [
        "00_data",
        "01_train",
        "02_embed",
        "04_compute_curve",
        "12_table_C",
        "23_figure_D",
        "30_adoption_guide",
    ]
    assert set(readers) <= set(expected) and expected[0] == "00_data"
