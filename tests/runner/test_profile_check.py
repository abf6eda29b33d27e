from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from celldino_utils.config.profiles import available_profiles, load_profile
from celldino_utils.runner.declarations import load_declarations
from celldino_utils.runner.profile_check import series_accesses, series_notebooks, validate_profile

from ..conftest import ROOT


@pytest.mark.parametrize("name", available_profiles(ROOT))
def test_shipped_profiles_match_the_notebooks_and_the_declarations(name: str) -> None:
    profile, notebooks = load_profile(name, root=ROOT), series_notebooks(ROOT)
    validate_profile(profile, notebooks)
    accesses = series_accesses(profile, notebooks, ROOT)
    assert list(accesses) == [nb.stem for nb in notebooks]


def test_bad_parameters_are_named() -> None:
    notebooks = series_notebooks(ROOT)
    profile = load_profile("tiny", root=ROOT)
    profile["notebooks"]["00_data"]["n_per_groups"] = 3
    with pytest.raises(ValueError, match=r"00_data.ipynb: profile parameter 'n_per_groups' is not declared"):
        validate_profile(profile, notebooks)
    profile = load_profile("tiny", root=ROOT)
    profile["notebooks"]["00_data"]["n_per_group"] = "two"
    with pytest.raises(ValueError, match=r"00_data.ipynb: parameter 'n_per_group' must be int"):
        validate_profile(profile, notebooks)
    profile = load_profile("tiny", root=ROOT)
    del profile["notebooks"]["00_data"]
    with pytest.raises(ValueError, match=r"no entry for notebook\(s\) \['00_data'\]"):
        validate_profile(profile, notebooks)


def test_a_path_parameter_left_out_of_the_declarations_is_refused() -> None:
    profile = load_profile("tiny", root=ROOT)
    profile["notebooks"]["23_figure_D"]["cell_line"] = "data/cell_lines.csv"
    with pytest.raises(ValueError, match=r"23_figure_D: parameter 'cell_line' names 'data/cell_lines.csv' but is"):
        series_accesses(profile, series_notebooks(ROOT), ROOT)
    profile = load_profile("tiny", root=ROOT)
    profile["notebooks"]["13_table_D"]["dataset"] = "cell_dino_cp_vits8"  # a released model, named without a path
    with pytest.raises(ValueError, match=r"13_table_D: parameter 'dataset' names 'cell_dino_cp_vits8'"):
        series_accesses(profile, series_notebooks(ROOT), ROOT)


def test_every_notebook_is_declared_once() -> None:
    assert list(load_declarations(ROOT)) == [nb.stem for nb in series_notebooks(ROOT)]


def test_the_check_path_imports_neither_torch_nor_papermill() -> None:
    code = (
        "import sys, celldino_utils.runner, celldino_utils.runner.profile_check, celldino_utils.cli; "
        "print(sorted({'torch', 'timm', 'papermill', 'nbformat'} & set(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"


def test_the_check_of_a_profile_with_missing_inputs_loads_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from celldino_utils.cli import main; code = main(['run', '--profile', 'paper', '--check']); "
        "print(code, 'torch' in sys.modules, 'papermill' in sys.modules)"
    )
    env = {"PATH": "/usr/bin:/bin", "CELLDINO_DATA_ROOT": str(tmp_path), "PYTHONPATH": str(ROOT)}
    checked = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert checked.stdout.split() == ["2", "False", "False"], checked.stderr[-2000:]
    assert "missing: cellpainting_model: model cell_dino_cp_vits8" in checked.stderr
