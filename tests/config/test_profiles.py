from __future__ import annotations

from pathlib import Path

import pytest

from celldino_utils.config.profiles import available_profiles, load_profile, validate_profile
from celldino_utils.runner.series import series_notebooks

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", available_profiles(ROOT))
def test_shipped_profiles_match_the_notebooks(name: str) -> None:
    validate_profile(load_profile(name, root=ROOT), series_notebooks(ROOT))


def test_unknown_profile() -> None:
    with pytest.raises(ValueError, match=r"unknown profile 'huge'.*default"):
        load_profile("huge", root=ROOT)


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


def test_an_empty_data_root_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELLDINO_DATA_ROOT", "")
    with pytest.raises(ValueError, match=r"CELLDINO_DATA_ROOT is set but empty"):
        load_profile("default", root=ROOT)
