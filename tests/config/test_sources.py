from __future__ import annotations

import json
from pathlib import Path

import pytest

from celldino_utils.config.profiles import load_profile
from celldino_utils.config.sources import MissingInput, Source, missing_sources

HPA_2021 = 'data/README.md, "Human Protein Atlas, Kaggle 2021"'


def _no_model(source: Source) -> MissingInput | None:
    raise AssertionError(f"{source.name} names no model")


def test_missing_paths_are_listed_with_their_sources(tmp_path: Path) -> None:
    (tmp_path / "data" / "lincs").mkdir(parents=True)
    (tmp_path / "data" / "lincs" / "load_data.csv").write_text("x")
    (tmp_path / "data" / "empty").mkdir()
    (tmp_path / "profiles.csv").write_text("x")
    profile = {
        "sources": {
            "hpa_2021": {"path": "data/hpa_2021", "what": "HPA single-cell images", "source": HPA_2021},
            "lincs": {"path": "data/lincs", "what": "LINCS Cell Painting", "source": "cpg0004-lincs"},
            "fov": {"path": "data/empty", "what": "HPA-FoV fields", "source": "S-BIAD2443"},
            "published": {"path": str(tmp_path / "profiles.csv"), "what": "LINCS profiles", "source": "cpg0004"},
        }
    }
    missing = missing_sources(profile, root=tmp_path, check_model=_no_model)
    assert [str(m) for m in missing] == [
        f"missing: hpa_2021: data/hpa_2021 (HPA single-cell images); get it from {HPA_2021}",
        "missing: fov: data/empty (HPA-FoV fields); get it from S-BIAD2443",  # an empty folder holds no input
    ]
    assert [m.name for m in missing] == ["hpa_2021", "fov"]
    assert missing_sources({}, root=tmp_path, check_model=_no_model) == []


def test_wrongly_declared_entries_are_named(tmp_path: Path) -> None:
    profile = {
        "sources": {
            "neither": {"what": "images", "source": "somewhere"},
            "both": {"path": "a", "model": "m", "what": "images", "source": "somewhere"},
            "typo": {"paht": "a", "what": "images", "source": "somewhere"},
            "no_what": {"path": "a", "source": "somewhere"},
            "no_source": {"path": "a", "what": "images"},
            "path_weights": {"path": "a", "weights": "w.pth", "what": "images", "source": "somewhere"},
            "bare": "data/a",
        }
    }
    lines = [str(m) for m in missing_sources(profile, root=tmp_path, check_model=_no_model)]
    assert lines == [
        "invalid: neither: needs either a 'path' or a 'model' (a released model's name)",
        "invalid: both: needs either a 'path' or a 'model' (a released model's name)",
        "invalid: typo: unknown key(s) ['paht']; allowed: ['path', 'model', 'weights', 'what', 'source']",
        "invalid: no_what: needs 'what': what the input is, in one line",
        "invalid: no_source: needs 'source': a data/README.md section, an accession or a competition",
        "invalid: path_weights: 'weights' goes with a 'model', not a 'path'",
        "invalid: bare: must be a mapping of ['path', 'model', 'weights', 'what', 'source'], got 'data/a'",
    ]


def test_model_entries_are_left_to_the_caller(tmp_path: Path) -> None:
    profile = {
        "sources": {
            "found": {"model": "m1", "what": "weights one"},
            "lost": {"model": "m2", "weights": "w.pth", "what": "weights two", "source": "the lab"},
        }
    }
    seen: list[Source] = []

    def check(source: Source) -> MissingInput | None:
        seen.append(source)
        return None if source.model == "m1" else MissingInput.missing(source.name, "gone", source.what, source.source)

    assert [str(m) for m in missing_sources(profile, root=tmp_path, check_model=check)] == [
        "missing: lost: gone (weights two); get it from the lab"
    ]
    assert seen == [
        Source("found", "weights one", "", model="m1"),
        Source("lost", "weights two", "the lab", None, "m2", "w.pth"),
    ]


def _profile_file(root: Path, sources: object) -> None:
    (root / "configs" / "profiles").mkdir(parents=True)
    profile = {"name": "p", "paths": {"data_root": "real"}, "notebooks": {}, "sources": sources}
    (root / "configs" / "profiles" / "p.yaml").write_text(json.dumps(profile))


def test_sources_resolve_the_profile_paths(tmp_path: Path) -> None:
    _profile_file(tmp_path, {"hpa": {"path": "${paths.data_root}/hpa", "what": "images", "source": "Kaggle"}})
    assert load_profile("p", root=tmp_path)["sources"] == {
        "hpa": {"path": "real/hpa", "what": "images", "source": "Kaggle"}
    }


def test_sources_must_be_a_mapping(tmp_path: Path) -> None:
    _profile_file(tmp_path, ["real/hpa"])
    with pytest.raises(ValueError, match=r"p.yaml: 'sources' must map input names to their path or model"):
        load_profile("p", root=tmp_path)
