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


def test_a_profile_holds_only_what_differs_from_its_base() -> None:
    tiny, default = load_profile("tiny", root=ROOT), load_profile("default", root=ROOT)
    assert "base" not in tiny and tiny["notebooks"]["01_train"]["hpa_epochs"] == 1
    assert tiny["notebooks"]["02_embed"]["hpa_format"] == default["notebooks"]["02_embed"]["hpa_format"]  # inherited
    assert tiny["notebooks"]["02_embed"]["hpa_data"] == tiny["paths"]["hpa_data"] != default["paths"]["hpa_data"]


def test_base_profiles_may_not_form_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "configs" / "profiles").mkdir(parents=True)
    for name, base in (("a", "b"), ("b", "a")):
        (tmp_path / "configs" / "profiles" / f"{name}.yaml").write_text(
            f"base: {base}\nname: {name}\nnotebooks: {{}}\n"
        )
    with pytest.raises(ValueError, match=r"base profiles form a cycle: a -> b -> a"):
        load_profile("a", root=tmp_path)
