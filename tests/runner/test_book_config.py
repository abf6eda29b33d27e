from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from celldino_utils.runner.book import book_config, repository_url, write_book_config

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
