from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from celldino_utils.cli import main
from celldino_utils.runner.book import (
    book_config,
    book_inputs,
    book_is_current,
    record_book_build,
    repository_url,
    write_book_config,
)

from ..conftest import ROOT


@pytest.mark.parametrize(
    "remote",
    [
        "https://github.com/lab/companion.git",
        "https://github.com/lab/companion",
        "git@github.com:lab/companion.git",
        "ssh://git@github.com/lab/companion.git",
    ],
)
def test_github_remotes_give_the_repository_address(tmp_path: Path, remote: str) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "remote", "add", "origin", remote], cwd=tmp_path, check=True)
    assert repository_url(tmp_path) == "https://github.com/lab/companion"


def test_no_github_origin_gives_none(tmp_path: Path) -> None:
    assert repository_url(tmp_path) is None  # not a repository at all
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "remote", "add", "origin", "/srv/mirror/companion.git"], cwd=tmp_path, check=True)
    assert repository_url(tmp_path) is None


def test_known_repository_adds_links_buttons_and_launch() -> None:
    base = yaml.safe_load((ROOT / "_config.yml").read_text())
    config = book_config(base, repository="https://github.com/lab/companion")
    assert config["repository"]["url"] == "https://github.com/lab/companion"
    assert config["html"]["use_repository_button"] and config["html"]["use_issues_button"]
    assert (
        "mybinder.org/v2/gh/lab/companion/main?urlpath=lab/tree/notebooks"
        in config["parse"]["myst_substitutions"]["launch"]
    )
    assert {k: v for k, v in config.items() if k not in ("repository", "html", "parse")} == {
        k: v for k, v in base.items() if k not in ("html", "parse")
    }
    assert base["parse"]["myst_enable_extensions"] == config["parse"]["myst_enable_extensions"][:-1]


def test_unknown_repository_keeps_the_base_and_says_how_to_run(tmp_path: Path) -> None:
    out = write_book_config(ROOT, tmp_path / "_config.yml", repository=None)
    config = yaml.safe_load(out.read_text())
    assert "repository" not in config
    assert "make lab" in config["parse"]["myst_substitutions"]["launch"]
    assert "substitution" in config["parse"]["myst_enable_extensions"]


def test_the_book_is_built_again_only_when_its_inputs_change(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    repository = "https://github.com/lab/companion"
    for name in ("_toc.yml", "_config.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "book" / "executed").mkdir(parents=True)
    (tmp_path / "book" / "intro.md").write_text("# Intro")

    def inputs(repository: str = repository) -> dict[str, str]:
        config = write_book_config(tmp_path, tmp_path / "_build" / "_config.yml", repository=repository)
        return book_inputs(tmp_path, config)

    built = inputs()
    assert list(built) == ["_toc.yml", "_config.yml", "book", "_build/_config.yml"]
    assert not book_is_current(tmp_path, built)  # never built
    record_book_build(tmp_path, built)
    assert not book_is_current(tmp_path, built)  # no _build/html/index.html
    (tmp_path / "_build" / "html").mkdir()
    (tmp_path / "_build" / "html" / "index.html").write_text("<html></html>")
    assert book_is_current(tmp_path, inputs())
    assert main(["book", "--root", str(tmp_path), "--repository", repository]) == 0  # would fail to build this book
    assert capsys.readouterr().out.startswith("book up to date")
    assert not book_is_current(tmp_path, inputs("https://github.com/lab/fork"))
    (tmp_path / "book" / "executed" / "00_data.ipynb").write_text("{}")  # a notebook ran again
    assert not book_is_current(tmp_path, inputs())
