from __future__ import annotations

from pathlib import Path

import pytest

from celldino_utils.config.profiles import load_profile

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_profile() -> None:
    with pytest.raises(ValueError, match=r"unknown profile 'huge'.*default"):
        load_profile("huge", root=ROOT)


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


@pytest.mark.parametrize("value", ["0", "two", "1.5", "true"])
def test_parallel_notebooks_must_be_a_whole_number_from_one(tmp_path: Path, value: str) -> None:
    (tmp_path / "configs" / "profiles").mkdir(parents=True)
    profile = f"name: p\nparallel_notebooks: {value}\nnotebooks: {{}}\n"
    (tmp_path / "configs" / "profiles" / "p.yaml").write_text(profile)
    with pytest.raises(ValueError, match=r"parallel_notebooks must be a whole number from 1"):
        load_profile("p", root=tmp_path)
