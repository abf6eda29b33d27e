"""Synthetic data are made once per settings and generator code, and never over data made elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celldino_utils.synthetic import ensure_synthetic
from celldino_utils.synthetic.profile import STAMP, generator_fingerprint


def _made(out: Path) -> float:
    return (out / STAMP).stat().st_mtime_ns


def test_same_settings_and_code_reuse_the_data(tmp_path: Path) -> None:
    out = ensure_synthetic("hpa", tmp_path / "hpa", {"preset": "tiny"})
    stamp = json.loads((out / STAMP).read_text())
    assert stamp["generator"] == generator_fingerprint()
    first = _made(out)
    assert _made(ensure_synthetic("hpa", out, {"preset": "tiny"})) == first
    assert _made(ensure_synthetic("hpa", out, {"preset": "tiny", "seed": 1})) != first


def test_data_made_by_other_generator_code_are_made_again(tmp_path: Path) -> None:
    out = ensure_synthetic("hpa", tmp_path / "hpa", {"preset": "tiny"})
    stamp = json.loads((out / STAMP).read_text())
    (out / STAMP).write_text(json.dumps({**stamp, "generator": "older code"}))
    first = _made(out)
    ensure_synthetic("hpa", out, {"preset": "tiny"})
    assert _made(out) != first
    assert json.loads((out / STAMP).read_text()) == stamp


def test_folder_without_stamp_is_never_overwritten(tmp_path: Path) -> None:
    real = tmp_path / "hpa"
    real.mkdir()
    (real / "train.csv").write_text("Id,Target\n")
    with pytest.raises(FileExistsError, match=f"{real}.*{STAMP} missing"):
        ensure_synthetic("hpa", real, {"preset": "tiny"})
    assert (real / "train.csv").read_text() == "Id,Target\n"
    with pytest.raises(ValueError, match="unknown synthetic data kind 'nope'"):
        ensure_synthetic("nope", tmp_path / "other", {})
