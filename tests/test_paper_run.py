"""The paper profile's road end to end: the same notebooks as ``paper.yaml``, on a tiny data set written in the layouts
of the real downloads (``tests/paper_layouts.py``) with small backbones in the official key format (``paper-tiny``).

All tests of this run live in this file, so that pytest-xdist (--dist loadfile) runs them on one worker and the
series runs once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from celldino_utils.config import load_profile
from celldino_utils.io.nuclei import read_nucleus_centres
from celldino_utils.runner import run_series

from .conftest import ROOT
from .paper_layouts import write_paper_shaped


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Every notebook run with the ``paper-tiny`` profile on the paper-shaped tiny data set."""
    data_root = tmp_path_factory.mktemp("paper_run")
    write_paper_shaped(data_root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CELLDINO_DATA_ROOT", str(data_root))
        patch.delenv("CELLDINO_CHECKPOINTS", raising=False)
        manifest = run_series("paper-tiny", root=ROOT)
    return data_root, manifest


def _table(data_root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(data_root / "paper-tiny" / "figures" / f"table_{name}.csv")


def _flat(params: dict) -> dict:
    """``{"pretrained": {"hpa": x}}`` -> ``{"pretrained.hpa": x}``; other values as they are."""
    flat = {}
    for key, value in params.items():
        if isinstance(value, dict) and value and key != "examples":
            flat |= {f"{key}.{sub}": item for sub, item in value.items()}
        else:
            flat[key] = value
    return flat


def test_paper_tiny_differs_from_paper_only_in_paths_sizes_and_lengths() -> None:
    paper, tiny = (load_profile(name, root=ROOT) for name in ("paper", "paper-tiny"))
    assert set(tiny["notebooks"]) == set(paper["notebooks"])
    allowed = {"crop_size", "cell_crop_size", "hpa_cell_crop_size", "cellpainting_cell_crop_size", "batch_size",
               "num_workers", "seeds", "max_epochs", "patience", "finetune_epochs", "finetune_crop_size", "n_runs",
               "n_crops", "boc_steps", "boc_batch_size", "examples"}  # fmt: skip
    for notebook, params in paper["notebooks"].items():
        flat, tiny_flat = _flat(params), _flat(tiny["notebooks"][notebook])
        changed = {key for key, value in flat.items() if tiny_flat[key] != value}
        paths = {key for key in changed if str(flat[key]).startswith(("data/", "figures", "book/"))}
        models = {key for key in changed if flat[key] in paper["models"].values()}
        other = {key for key in changed - paths - models if key.split(".")[0] not in allowed}
        assert not other, f"{notebook}: {sorted(other)}"


def test_the_paper_series_runs_on_the_real_layouts(paper_run: tuple[Path, dict]) -> None:
    data_root, manifest = paper_run
    assert {(e["status"], e["reason"]) for e in manifest["notebooks"].values()} == {("ran", "first run")}
    written = json.loads((data_root / "paper-tiny" / "figures" / "run_manifest.json").read_text())
    assert written["notebooks"]["02_embed"]["parameters"]["hpa_checkpoint"].endswith("cell_dino_hpa_vitt16.yaml")
    assert written["notebooks"]["02_embed"]["parameters"]["cellpainting_checkpoint"] == "cell_dino_cp_vits8"


def test_tables_a_and_b_score_the_hpav23_cells_on_the_published_split(paper_run: tuple[Path, dict]) -> None:
    data_root, _ = paper_run
    for name in ("A", "B"):
        table = _table(data_root, name)
        ours = table[table["method"] == "Cell-DINO"]
        assert ours["run_value"].notna().all() and ((ours["run_value"] > 0) & (ours["run_value"] <= 100)).all()
        assert "splits.csv" in ours["features"].iloc[0]
    assert "Metadata_locations" in _table(data_root, "B")["features"].iloc[0]


def test_table_d_reads_the_published_cellprofiler_profiles_into_the_paper_row(paper_run: tuple[Path, dict]) -> None:
    data_root, _ = paper_run
    table = _table(data_root, "D")
    for method in ("Cell-DINO", "CellProfiler"):
        rows = table[table["method"] == method]
        assert len(rows) == 3 and rows["run_value"].notna().all(), rows
    assert "csv.gz" in table["features"].iloc[0]
    for method in ("Cell-DINO", "CellProfiler"):  # the fixture's plates hold a compound without an MoA, one with two
        note = table.loc[table["method"] == method, "note"].iloc[0]
        assert "well(s) left out of the MoA task, no MoA annotation (by plate SQ" in note, note
        assert "well(s) in the MoA task, several MoAs (multi_moa='expand')" in note, note


def test_the_cell_painting_cells_come_from_the_cellprofiler_sqlite(paper_run: tuple[Path, dict]) -> None:
    data_root, _ = paper_run
    written = json.loads((data_root / "paper-tiny" / "figures" / "run_manifest.json").read_text())
    options = written["notebooks"]["02_embed"]["parameters"]["cellpainting_read_options"]
    assert options["nuclei"] == "backend/*/*/*.sqlite" and not (data_root / "lincs" / "nuclei.csv").exists()
    nuclei = read_nucleus_centres(data_root / "lincs", nuclei=options["nuclei"])
    assert len(pd.read_parquet(data_root / "embeddings" / "paper" / "cp_cell_celldino.parquet")) == len(nuclei)


def test_table_c_fine_tunes_the_released_model_and_names_no_cell_dino_plus(paper_run: tuple[Path, dict]) -> None:
    data_root, _ = paper_run
    table = _table(data_root, "C")
    for method in ("Cell-DINO", "Cell-DINO ft"):
        assert table.loc[table["method"] == method, "run_value"].notna().all()
    plus = table[table["method"] == "Cell-DINO+"]
    assert plus["run_value"].isna().all() and plus["note"].str.contains("no Cell-DINO\\+ weights were released").all()


def test_figure_d_is_drawn_from_the_hpav23_cells(paper_run: tuple[Path, dict]) -> None:
    data_root, _ = paper_run
    assert (data_root / "paper-tiny" / "figures" / "figure_D.png").stat().st_size > 0
