"""The paper profile's road end to end: the same notebooks as ``paper.yaml``, on a tiny data set written in the layouts
of the real downloads (``tests/paper_layouts.py``) with small backbones in the official key format (``paper-tiny``).

All tests of this run live in this file, so that pytest-xdist (--dist loadfile) runs them on one worker and the
series runs once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from celldino_utils.config import load_profile
from celldino_utils.embed import embed_data
from celldino_utils.io import read_profiles
from celldino_utils.io.nuclei import read_nucleus_centres
from celldino_utils.io.profiles import is_feature, profile_path
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
        manifest = run_series("paper-tiny", root=ROOT, strict=True)  # a write the declarations miss fails it
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
    embed = written["notebooks"]["02_embed"]["parameters"]
    assert embed["hpa_checkpoint"].endswith("cell_dino_hpa_vitt16_fov.yaml")
    assert embed["hpa_cells_checkpoint"].endswith("cell_dino_hpa_vitt16_cells.yaml")
    assert embed["cellpainting_checkpoint"] == "cell_dino_cp_vits8"


def test_each_chapter_reads_the_weights_file_of_its_checkpoint(paper_run: tuple[Path, dict]) -> None:
    """The run manifest records the weights files each chapter's models were found in: the single-cell HPA file
    only where HPA single cells are embedded, the HPA-FoV file wherever HPA fields are, the Cell Painting model
    under its release name with the hash suffix."""
    data_root, _ = paper_run
    written = json.loads((data_root / "paper-tiny" / "figures" / "run_manifest.json").read_text())
    weights = {
        name: {Path(key).name for key in entry["fingerprint"]["inputs"] if key.endswith(".pth")}
        for name, entry in written["notebooks"].items()
    }
    cells, fov = "cell_dino_hpa_vitt16_cells.pth", "cell_dino_hpa_vitt16_fov.pth"
    cellpainting = next(iter(weights["02_embed"] - {cells, fov}))
    assert weights["02_embed"] == {cells, fov, cellpainting}
    assert re.fullmatch(r"cell_dino_vits8_pretrain_cp-[0-9a-f]{8}\.pth", cellpainting)
    assert [name for name, files in weights.items() if cells in files] == ["02_embed"]
    assert [name for name, files in weights.items() if fov in files] == [
        "01_train", "02_embed", "04_compute_curve", "12_table_C", "30_adoption_guide", "31_your_images"
    ]  # fmt: skip
    assert weights["12_table_C"] == {fov}  # its fine-tuning starts from the HPA-FoV checkpoint


@pytest.mark.parametrize(("level", "kind", "data", "format"), [
    ("cell", "cells", "hpav23", "hpa-kaggle"),  # Tables A, B and Figure D read these embeddings
    ("fov", "fov", "hpa_fov", "hpa-fov"),  # Table C and Figures A-C read these
])  # fmt: skip
def test_the_hpa_embeddings_come_from_their_own_checkpoint(
    paper_run: tuple[Path, dict], tmp_path: Path, level: str, kind: str, data: str, format: str
) -> None:
    data_root, _ = paper_run
    embeddings = data_root / "embeddings" / "paper"
    embedded = read_profiles(profile_path(embeddings, dataset="hpa", level=level, features="celldino"))
    features = [column for column in embedded.columns if is_feature(column)]
    options = {"level": level, "crop_size": 32, "limit": 2, "progress": False}
    again = {}
    for card in ("cells", "fov"):
        checkpoint = data_root / "checkpoints" / "cards" / f"cell_dino_hpa_vitt16_{card}.yaml"
        out = embed_data(format, data_root / data, checkpoint=checkpoint, out=tmp_path / f"{card}.parquet", **options)
        again[card] = read_profiles(out)[features].to_numpy()
    assert np.allclose(embedded[features].to_numpy()[:2], again[kind], atol=1e-5)
    other = "fov" if kind == "cells" else "cells"
    assert not np.allclose(again[kind], again[other], atol=1e-3), "the two files give other embeddings"


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
