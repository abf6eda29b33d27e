from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from celldino_utils.cli import main
from celldino_utils.runner import NotebookFailed, UndeclaredRead, UndeclaredWrite, run_series

from ..conftest import ROOT


def _project(tmp_path: Path, source: str) -> Path:
    (tmp_path / "configs" / "profiles").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    profile = "name: p\npaths:\n  executed: out/executed\n  figures: out/figures\nnotebooks:\n  00_fail: {x: 2}\n"
    (tmp_path / "configs" / "profiles" / "p.yaml").write_text(profile)
    (tmp_path / "configs" / "notebooks.yaml").write_text("00_fail: {}\n")
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
    assert "fingerprint" not in manifest["notebooks"]["00_fail"]  # a failure is not a run to compare with
    with pytest.raises(NotebookFailed):
        run_series("p", root=root)
    manifest = json.loads((root / "out" / "figures" / "run_manifest.json").read_text())
    assert manifest["notebooks"]["00_fail"]["reason"] == "last run failed"


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
    (tmp_path / "configs" / "notebooks.yaml").write_text("00_a: {}\n01_b: {}\n")
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
    assert kept["earlier_run"]["started"] == first["started"] and kept["status"] == "ran"
    assert "earlier_run" not in written["notebooks"]["01_b"]
    assert written["notebooks"]["01_b"]["status"] == "up to date"  # --only narrows the run; it does not force


# Four notebooks: 00_make reads data/ckpt.txt and writes out/tables/t.csv, which 01_read reads;
# 02_ckpt reads data/ckpt.txt too; 03_alone reads data/other.txt only. _DECLARED says so for the runner.
_CHAIN = {
    "00_make": (
        {"ckpt": "data/ckpt.txt", "out_dir": "out/tables"},
        "Path(out_dir).mkdir(parents=True, exist_ok=True)\nPath(out_dir, 't.csv').write_text(Path(ckpt).read_text())",
    ),
    "01_read": ({"table": "out/tables/t.csv"}, "assert Path(table).read_text() == 'weights'"),
    "02_ckpt": ({"ckpt": "data/ckpt.txt"}, "assert Path(ckpt).read_text() == 'weights'"),
    "03_alone": ({"note": "data/other.txt"}, "Path(note).read_text()"),
}


_DECLARED = {
    "00_make": {"reads": ["ckpt"], "writes": ["out_dir"]},
    "01_read": {"reads": ["table"]},
    "02_ckpt": {"reads": ["ckpt"]},
    "03_alone": {"reads": ["note"]},
}


def _chain_project(root: Path, chain: dict = _CHAIN, declared: dict = _DECLARED) -> Path:
    (root / "configs" / "profiles").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "data").mkdir()
    (root / "data" / "ckpt.txt").write_text("weights")
    (root / "data" / "other.txt").write_text("other")
    profile = {"name": "p", "paths": {"executed": "out/executed", "figures": "out/figures"}, "notebooks": {}}
    for stem, (params, code) in chain.items():
        profile["notebooks"][stem] = params
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        parameters = nbformat.v4.new_code_cell("\n".join(f"{key} = 'unset'" for key in params))
        parameters.metadata["tags"] = ["parameters"]
        body = nbformat.v4.new_code_cell(f"from pathlib import Path\n{code}")
        notebook.cells = [nbformat.v4.new_markdown_cell(f"# {stem}"), parameters, body]
        nbformat.write(notebook, root / "notebooks" / f"{stem}.ipynb")
    (root / "configs" / "profiles" / "p.yaml").write_text(json.dumps(profile))
    (root / "configs" / "notebooks.yaml").write_text(json.dumps(declared))
    return root


def _outcome(manifest: dict) -> dict[str, str]:
    return {stem: e.get("reason", e["status"]) for stem, e in manifest["notebooks"].items()}


def test_reruns_redo_only_what_changed(tmp_path: Path) -> None:
    root = _chain_project(tmp_path)
    first = run_series("p", root=root)
    assert _outcome(first) == dict.fromkeys(_CHAIN, "first run")
    made = first["notebooks"]["00_make"]
    assert made["status"] == "ran"
    assert made["outputs"].keys() == {"out/tables/t.csv", "out/executed/00_make.ipynb"}
    assert made["fingerprint"]["inputs"].keys() == {"data/ckpt.txt"}  # out_dir, written to, is an output location
    assert first["notebooks"]["01_read"]["fingerprint"]["inputs"].keys() == {"out/tables/t.csv"}

    lines: list[str] = []
    again = run_series("p", root=root, progress=lines.append)
    assert {e["status"] for e in again["notebooks"].values()} == {"up to date"}
    assert again["total_wall_time_s"] == 0
    assert again["notebooks"]["00_make"]["wall_time_s"] == made["wall_time_s"]  # carried forward
    assert lines == ["4 notebooks, 0 to run", *(f"[{i}/4] {stem}: up to date" for i, stem in enumerate(_CHAIN, 1))]

    notebook = nbformat.read(root / "notebooks" / "00_make.ipynb", as_version=4)
    notebook.cells[0].source = "# Make the table, now with more words"
    nbformat.write(notebook, root / "notebooks" / "00_make.ipynb")
    lines.clear()
    edited = run_series("p", root=root, progress=lines.append)
    assert _outcome(edited) == {
        "00_make": "notebook source changed",
        "01_read": "input changed: out/tables/t.csv",
        "02_ckpt": "up to date",
        "03_alone": "up to date",
    }
    assert re.fullmatch(r"4 notebooks, 2 to run; about \d+ s left", lines[0])  # 01_read reads what 00_make writes
    assert lines[1] == "[1/4] 00_make: running (notebook source changed)"
    assert re.fullmatch(r"\[1/4\] 00_make: ran in \d+\.\d s; about \d+ s left", lines[2])
    assert re.fullmatch(r"\[2/4\] 01_read: ran in \d+\.\d s", lines[4]) and lines[5] == "[3/4] 02_ckpt: up to date"


def test_a_changed_input_file_reruns_every_notebook_that_reads_it(tmp_path: Path) -> None:
    root = _chain_project(tmp_path)
    run_series("p", root=root)
    ckpt = root / "data" / "ckpt.txt"
    ckpt.write_text("weights")  # regenerated: the same bytes, written again
    os.utime(ckpt, ns=(ckpt.stat().st_atime_ns, ckpt.stat().st_mtime_ns + 10**9))
    assert _outcome(run_series("p", root=root)) == {
        "00_make": "input changed: data/ckpt.txt",
        "01_read": "input changed: out/tables/t.csv",
        "02_ckpt": "input changed: data/ckpt.txt",
        "03_alone": "up to date",
    }


def test_force_and_progress_from_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _chain_project(tmp_path)
    run_series("p", root=root, only=["03_alone"])
    command = ["run", "--profile", "p", "--root", str(root), "--only", "02_ckpt", "03_alone"]
    assert main([*command, "--force", "03_alone"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "2 notebooks, 2 to run"  # no estimate: 02_ckpt never ran
    assert out[1] == "[1/2] 02_ckpt: running (first run)"
    assert re.fullmatch(r"\[1/2\] 02_ckpt: ran in \d+\.\d s; about \d+ s left", out[2])  # 03_alone's last time
    assert out[3] == "[2/2] 03_alone: running (forced)"
    assert re.fullmatch(r"\[2/2\] 03_alone: ran in \d+\.\d s", out[4])
    assert re.fullmatch(r"2 ran; \d+\.\d s of notebooks in \d+\.\d s; manifest written to .*", out[5])
    assert main([*command[:-2], "03_alone"]) == 0  # a partial run counts only its own notebooks
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("1 up to date (1 not considered: the manifest keeps their earlier entries); ")
    assert main([*command, "--force"]) == 0
    assert capsys.readouterr().out.splitlines()[1::2][:2] == [
        "[1/2] 02_ckpt: running (forced)",
        "[2/2] 03_alone: running (forced)",
    ]
    assert main([*command, "--force", "99_nothing"]) == 2
    assert "--force: unknown notebook(s) ['99_nothing']" in capsys.readouterr().err


def test_a_notebook_writing_where_it_declares_no_write_fails(tmp_path: Path) -> None:
    chain = {**_CHAIN, "03_alone": ({"note": "data/other.txt"}, "Path(note).write_text('overwritten')")}
    root = _chain_project(tmp_path, chain)
    with pytest.raises(UndeclaredWrite, match=r"03_alone.ipynb wrote 1 file\(s\) outside .*: data/other.txt"):
        run_series("p", root=root)
    assert (
        json.loads((root / "out" / "figures" / "run_manifest.json").read_text())["notebooks"]["03_alone"]["status"]
        == "failed"
    )


def test_a_strict_run_checks_writes_under_every_folder_of_the_profile(tmp_path: Path) -> None:
    chain = {
        **_CHAIN,
        "03_alone": (
            {"note": "data/other.txt"},
            "Path('out/figures').mkdir(parents=True, exist_ok=True)\nPath('out/figures/stray.csv').write_text('x')",
        ),
    }
    root = _chain_project(tmp_path, chain)
    assert run_series("p", root=root)["notebooks"]["03_alone"]["status"] == "ran"  # not where it reads or writes
    with pytest.raises(UndeclaredWrite, match=r"03_alone.ipynb wrote 1 file\(s\) outside .*: out/figures/stray.csv"):
        run_series("p", root=root, force=["03_alone"], strict=True)


def test_the_order_comes_from_the_declarations(tmp_path: Path) -> None:
    chain = {"00_read": _CHAIN["01_read"], "01_make": _CHAIN["00_make"]}
    declared = {"00_read": _DECLARED["01_read"], "01_make": _DECLARED["00_make"]}
    manifest = run_series("p", root=_chain_project(tmp_path, chain, declared))
    assert list(manifest["notebooks"]) == ["01_make", "00_read"]
    assert {e["status"] for e in manifest["notebooks"].values()} == {"ran"}
    circular = {
        "00_read": {"reads": ["table"], "writes": ["table"]},
        "01_make": _DECLARED["00_make"] | {"reads": ["ckpt", "out_dir"]},
    }
    with pytest.raises(ValueError, match=r"notebooks \['00_read', '01_make'\] read what each other write"):
        run_series("p", root=_chain_project(tmp_path / "circular", chain, circular))


def test_a_strict_run_checks_what_the_code_opens_for_reading(tmp_path: Path) -> None:
    chain = {
        **_CHAIN,
        "03_alone": ({"note": "data/other.txt"}, "Path(note).read_text()\nPath('out/figures/x.txt').read_text()"),
    }
    root = _chain_project(tmp_path, chain)
    (root / "out" / "figures").mkdir(parents=True)
    (root / "out" / "figures" / "x.txt").write_text("a file no parameter names")
    assert run_series("p", root=root)["notebooks"]["03_alone"]["status"] == "ran"
    with pytest.raises(UndeclaredRead, match=r"03_alone.ipynb read 1 file\(s\) outside .* reads: out/figures/x.txt"):
        run_series("p", root=root, force=["03_alone"], strict=True)
    assert (
        run_series("p", root=root, force=["02_ckpt"], only=["02_ckpt"], strict=True)["notebooks"]["02_ckpt"]["status"]
        == "ran"
    )


# Side by side: 00_slow and 01_fast write apart (two patterns in one folder) and read nothing of each other, so they
# run at once; 02_after reads what 00_slow writes and waits for it. Each notebook records when it ran.
_SIDE_BY_SIDE = {
    "00_slow": (
        {"out_dir": "out/figures", "log": "out/log"},
        "import time, os\nPath(log).mkdir(parents=True, exist_ok=True)\n"
        "waited = 0\nwhile not Path(log + '2', 'fast_start').exists() and waited < 120:\n"
        "    time.sleep(0.2)\n    waited += 0.2\n"
        "Path(out_dir, 'table_S.csv').write_text(os.environ.get('OMP_NUM_THREADS', 'unset'))\n"
        "Path(log, 'slow_end').write_text(str(time.time()))",
    ),
    "01_fast": (
        {"out_dir": "out/figures", "log": "out/log2"},
        "import time\nPath(log).mkdir(parents=True, exist_ok=True)\n"
        "Path(log, 'fast_start').write_text(str(time.time()))\n"
        "Path(out_dir, 'figure_F.png').write_text('f')",
    ),
    "02_after": ({"table": "out/figures/table_S.csv"}, "assert Path(table).exists()"),
}
_SIDE_BY_SIDE_DECLARED = {
    "00_slow": {"writes": ["out_dir/table_*", "log"]},
    "01_fast": {"writes": ["out_dir/figure_*", "log"]},
    "02_after": {"reads": ["table"]},
}


def test_notebooks_that_share_nothing_run_side_by_side_and_the_others_wait(tmp_path: Path) -> None:
    root = _chain_project(tmp_path, _SIDE_BY_SIDE, _SIDE_BY_SIDE_DECLARED)
    (root / "out" / "figures").mkdir(parents=True)
    lines: list[str] = []
    manifest = run_series("p", root=root, jobs=2, progress=lines.append)
    assert manifest["parallel_notebooks"] == 2 and _outcome(manifest) == dict.fromkeys(_SIDE_BY_SIDE, "first run")
    slow_end = float((root / "out" / "log" / "slow_end").read_text())
    assert float((root / "out" / "log2" / "fast_start").read_text()) < slow_end  # 00_slow waited for it: side by side
    assert lines.index("[3/3] 02_after: running (first run)") > next(
        i for i, line in enumerate(lines) if line.startswith("[1/3] 00_slow: ran")
    )
    # each notebook's outputs are its own, though they share a folder and ran at the same time
    assert set(manifest["notebooks"]["00_slow"]["outputs"]) >= {"out/figures/table_S.csv"}
    assert not any("figure_F" in key for key in manifest["notebooks"]["00_slow"]["outputs"])
    assert manifest["elapsed_s"] < manifest["total_wall_time_s"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert (root / "out" / "figures" / "table_S.csv").read_text() == str(max(1, cores // 2))  # a share of the cores
    assert _outcome(run_series("p", root=root, jobs=2)) == dict.fromkeys(_SIDE_BY_SIDE, "up to date")


# 00_slow without waiting for 01_fast (which fails or writes elsewhere in the tests below)
_SLOW_ALONE = (
    {"out_dir": "out/figures", "log": "out/log"},
    "import time\ntime.sleep(2)\nPath(out_dir, 'table_S.csv').write_text('s')",
)


# 00_slow still running well after 01_fast has started: a failure of 01_fast comes while 00_slow runs, however slowly
# the kernels start on a loaded machine (with a fixed sleep, 00_slow could end first and 02_after start)
_SLOW_PAST_FAST = (
    {"out_dir": "out/figures", "log": "out/log"},
    "import time\nwaited = 0\nwhile not Path(log + '2', 'fast_start').exists() and waited < 120:\n"
    "    time.sleep(0.2)\n    waited += 0.2\n"
    "time.sleep(5)\nPath(out_dir, 'table_S.csv').write_text('s')",
)


def _beside_slow_alone(root: Path, fast_code: str, slow: tuple[dict, str] = _SLOW_ALONE) -> Path:
    """The side-by-side project with ``slow`` as 00_slow (:data:`_SLOW_ALONE`), and 01_fast running ``fast_code``."""
    fast = ({"out_dir": "out/figures", "log": "out/log2"}, fast_code)
    root = _chain_project(root, {**_SIDE_BY_SIDE, "00_slow": slow, "01_fast": fast}, _SIDE_BY_SIDE_DECLARED)
    (root / "out" / "figures").mkdir(parents=True)
    return root


def test_a_failure_beside_another_notebook_lets_it_finish_and_starts_nothing_after(tmp_path: Path) -> None:
    marks = "Path(log).mkdir(parents=True, exist_ok=True)\nPath(log, 'fast_start').write_text('')\n"
    fails = marks + "raise RuntimeError('fast broke')"
    root = _beside_slow_alone(tmp_path, fails, slow=_SLOW_PAST_FAST)
    with pytest.raises(NotebookFailed, match="01_fast.ipynb failed"):
        run_series("p", root=root, jobs=2)
    manifest = json.loads((root / "out" / "figures" / "run_manifest.json").read_text())
    assert manifest["notebooks"]["00_slow"]["status"] == "ran"  # it was running: it finished
    assert manifest["notebooks"]["01_fast"]["status"] == "failed"
    assert "02_after" not in manifest["notebooks"]


def test_a_write_undeclared_by_every_notebook_fails_also_side_by_side(tmp_path: Path) -> None:
    root = _beside_slow_alone(tmp_path, "Path(out_dir, 'stray.txt').write_text('x')")
    with pytest.raises(UndeclaredWrite, match="stray.txt"):
        run_series("p", root=root, jobs=2)
