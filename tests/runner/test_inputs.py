from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import nbformat
import pytest

from celldino_utils.cli import main
from celldino_utils.models import RELEASED_MODELS, RETIRED_NAMES, get_released_model
from celldino_utils.runner import MissingInputs, run_series

from ..conftest import ROOT

HPA_2021 = 'data/README.md, "Human Protein Atlas, Kaggle 2021"'
SOURCES = {
    "hpa_2021": {"path": "${paths.data_root}/hpa_2021", "what": "HPA single-cell images", "source": HPA_2021},
    "lincs": {"path": "${paths.data_root}/lincs/load_data.csv", "what": "LINCS sites", "source": "cpg0004-lincs"},
    "fov": {"path": "${paths.data_root}/fov", "what": "HPA-FoV fields", "source": "S-BIAD2443"},
}
MISSING = [
    f"missing: hpa_2021: real/hpa_2021 (HPA single-cell images); get it from {HPA_2021}",
    "missing: lincs: real/lincs/load_data.csv (LINCS sites); get it from cpg0004-lincs",
]


def _project(root: Path, sources: dict) -> Path:
    """One notebook that writes ``ran.txt``, and profile ``p`` declaring ``sources``; ``real/fov`` is there."""
    (root / "configs" / "profiles").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "real" / "fov").mkdir(parents=True)
    (root / "real" / "fov" / "field.tif").write_text("pixels")
    paths = {"data_root": "real", "executed": "out/executed", "figures": "out/figures"}
    profile = {"name": "p", "paths": paths, "sources": sources, "notebooks": {"00_write": {"x": 2}}}
    (root / "configs" / "profiles" / "p.yaml").write_text(json.dumps(profile))
    (root / "configs" / "notebooks.yaml").write_text("00_write: {}\n")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("x = 1")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell("open('ran.txt', 'w').write(str(x))")]
    nbformat.write(notebook, root / "notebooks" / "00_write.ipynb")
    return root


def test_check_lists_the_missing_inputs_and_executes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, SOURCES)
    assert main(["run", "--profile", "p", "--root", str(root), "--check"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "celldino run: error: profile 'p': 2 of its 3 inputs missing or declared wrongly; no notebook was executed",
        *MISSING,
    ]
    assert not (root / "ran.txt").exists() and not (root / "out").exists()

    (root / "real" / "hpa_2021").mkdir()
    (root / "real" / "hpa_2021" / "train.csv").write_text("ID,Label")
    (root / "real" / "lincs").mkdir()
    (root / "real" / "lincs" / "load_data.csv").write_text("Metadata_Plate")
    assert main(["run", "--profile", "p", "--root", str(root), "--check"]) == 0
    assert (
        capsys.readouterr().out
        == "profile p matches the notebooks and their declarations, and all its 3 inputs are present\n"
    )
    assert not (root / "ran.txt").exists()


def test_a_run_stops_before_its_first_notebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path, SOURCES)
    assert main(["run", "--profile", "p", "--root", str(root)]) == 2
    assert capsys.readouterr().err.splitlines()[1:] == MISSING
    with pytest.raises(MissingInputs) as raised:
        run_series("p", root=root)
    assert [m.name for m in raised.value.missing] == ["hpa_2021", "lincs"]
    assert not (root / "ran.txt").exists() and not (root / "out").exists()

    (root / "real" / "hpa_2021").mkdir()
    (root / "real" / "hpa_2021" / "train.csv").write_text("ID,Label")
    (root / "real" / "lincs").mkdir()
    (root / "real" / "lincs" / "load_data.csv").write_text("Metadata_Plate")
    assert run_series("p", root=root)["notebooks"]["00_write"]["status"] == "ran"
    assert (root / "ran.txt").read_text() == "2"


def test_a_model_input_is_found_at_its_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoints = tmp_path / "checkpoints"
    monkeypatch.setenv("CELLDINO_CHECKPOINTS", str(checkpoints))
    sources = {"cp": {"model": "cell_dino_cp_vits8", "what": "Cell-DINO Cell Painting ViT-S/8"}}
    root = _project(tmp_path / "project", sources)
    with pytest.raises(MissingInputs) as raised:
        run_series("p", root=root)
    model = get_released_model("cell_dino_cp_vits8")  # no source in the profile: the registry's is given
    assert [str(m) for m in raised.value.missing] == [
        f"missing: cp: model cell_dino_cp_vits8, weights file in {checkpoints}/released: cell_dino_cp_vits8.pth, "
        "or as released: cell_dino_vits8_pretrain_cp[-<sha256 prefix>].pth (Cell-DINO Cell Painting ViT-S/8); "
        f"get it from {model.source} ({model.licence})"
    ]
    assert model.source.startswith("https://ai.meta.com/") and model.licence.startswith("FAIR Noncommercial")
    (checkpoints / "released").mkdir(parents=True)
    (checkpoints / "released" / "cell_dino_vits8_pretrain_cp-37d20e9c.pth").write_bytes(b"weights")
    assert main(["run", "--profile", "p", "--root", str(root), "--check"]) == 0
    assert not (root / "ran.txt").exists()
    (checkpoints / "released" / "cell_dino_cp_vits8.pth").write_bytes(b"weights")
    with pytest.raises(MissingInputs, match=r"invalid: cp: weights of cell_dino_cp_vits8: 2 files in .* are named"):
        run_series("p", root=root)


def test_the_default_weights_path_is_under_the_project_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("CELLDINO_CHECKPOINTS", "CELLDINO_DATA_ROOT", "CELLDINO_ROOT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)  # no project here: the notebooks run in the project, and so does the check
    sources = {"vits": {"model": "dinov2_vits14", "what": "DINOv2 ViT-S/14", "source": "DINOv2"}}
    root = _project(tmp_path / "project", sources)
    weights = root / "data" / "checkpoints" / "released" / "dinov2_vits14_pretrain.pth"
    with pytest.raises(MissingInputs, match=re.escape(f"model dinov2_vits14, weights file in {weights.parent}: ")):
        run_series("p", root=root)
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"weights")
    assert main(["run", "--profile", "p", "--root", str(root), "--check"]) == 0
    assert "CELLDINO_ROOT" not in os.environ


def test_model_inputs_with_a_weights_file_or_an_unknown_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = {
        "vits": {"model": "dinov2_vits14", "weights": "real/dinov2.pth", "what": "DINOv2 ViT-S/14", "source": "DINOv2"},
        "vitl": {"model": "dinov2_vitl14", "weights": "real/fov/field.tif", "what": "stand-in", "source": "here"},
        "huge": {"model": "cell_dino_huge", "what": "a model nobody released"},
        "hpa": {"model": "cell_dino_hpa_vitl16", "what": "the HPA ViT-L/16 by its builder's name"},
    }
    root = _project(tmp_path, sources)
    assert main(["run", "--profile", "p", "--root", str(root), "--check"]) == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        f"missing: vits: model dinov2_vits14, weights file {root / 'real' / 'dinov2.pth'} (DINOv2 ViT-S/14); "
        "get it from DINOv2",
        f"invalid: huge: unknown model 'cell_dino_huge'; known: {sorted(RELEASED_MODELS)}, or a model card's path",
        f"invalid: hpa: released model 'cell_dino_hpa_vitl16' is {RETIRED_NAMES['cell_dino_hpa_vitl16']}",
    ]


def test_the_tiny_profile_passes_the_check_quickly(capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    assert main(["run", "--profile", "tiny", "--root", str(ROOT), "--check"]) == 0
    assert time.perf_counter() - start < 60
    assert (
        capsys.readouterr().out
        == "profile tiny matches the notebooks and their declarations, and declares no external inputs\n"
    )


def test_the_paper_profile_without_its_data_lists_every_input_and_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CELLDINO_DATA_ROOT", str(tmp_path))
    monkeypatch.delenv("CELLDINO_CHECKPOINTS", raising=False)
    start = time.perf_counter()
    assert main(["run", "--profile", "paper", "--root", str(ROOT), "--check"]) == 2
    assert time.perf_counter() - start < 60
    head, *lines = capsys.readouterr().err.splitlines()
    assert re.search(r"(\d+) of its \1 inputs missing", head) and "no notebook was executed" in head
    names = {line.split(": ")[1] for line in lines}
    expected = {"hpa_fov", "hpa_cells_splits", "lincs_images", "lincs_profiles", "cellpainting_model"}
    assert expected | {"hpa_cells_model", "hpa_fov_model"} <= names, "each HPA checkpoint is listed"
    assert all(line.startswith("missing: ") and "; get it from " in line for line in lines)
    assert not list(tmp_path.iterdir()), "the check writes nothing"
