"""No chapter output names the machine's folders: paths under the project root are shown relative to it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from celldino_utils.chapters.shown import shown_path, shown_paths, shown_text


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CELLDINO_ROOT", str(tmp_path))
    return tmp_path


def test_paths_under_the_root_are_shown_relative_and_others_as_given(root: Path) -> None:
    assert shown_path(root / "data" / "hpa") == "data/hpa"
    assert shown_path("/elsewhere/hpa") == "/elsewhere/hpa"
    assert shown_path("cell_dino_cp_vits8") == "cell_dino_cp_vits8"
    table = pd.DataFrame({"data": [str(root / "data/cp"), "/d/cp"], "value": [0.5, 0.25]})
    assert list(shown_paths(table, ("data", "model"))["data"]) == ["data/cp", "/d/cp"]


def test_resolved_paths_in_a_message_are_shown_as_given(root: Path) -> None:
    resolved = root / "data" / "hpa" / "teacher_backbone.pth"
    message = f"{resolved}: lacks the channels ['DNA']"
    given = "data/hpa/teacher_backbone.pth"
    assert shown_text(message, {given: resolved}) == f"{given}: lacks the channels ['DNA']"
