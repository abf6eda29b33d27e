"""The book's build configuration: ``_config.yml`` plus the repository it is built from.

The repository's address is known only where the book is built (a clone's ``origin``; GitHub
Actions checks out with it), so it is not written in ``_config.yml``: :func:`write_book_config`
adds it to a copy, with the repository and issue buttons and a launch link, and the build uses that copy.
A build records what it was built from (:func:`record_book_build`), so an unchanged book is not built again.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from celldino_utils.io.stamps import file_sha256, path_stamp
from celldino_utils.runner.declarations import path_key

BINDER = "https://mybinder.org/v2/gh"
BUILD_RECORD = "_build/book_inputs.json"
BOOK_SOURCES = ("_toc.yml", "_config.yml", "book")
_GITHUB = re.compile(r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)([^/]+)/(.+?)(?:\.git)?/?$")


def repository_url(root: str | Path) -> str | None:
    """``https://github.com/<owner>/<repo>`` of the checkout's ``origin`` remote, or None without one on GitHub."""
    try:
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    match = _GITHUB.match(remote)
    return f"https://github.com/{match[1]}/{match[2]}" if match else None


def book_config(base: dict[str, Any], *, repository: str | None, branch: str = "main") -> dict[str, Any]:
    """``base`` (the parsed ``_config.yml``) plus the repository link, buttons and launch link of ``repository``.

    The ``launch`` substitution is what the introduction shows: a Binder link that opens the
    notebooks in JupyterLab, or the local command when no repository is known.
    """
    config = {**base, "parse": dict(base.get("parse", {}))}
    extensions = list(config["parse"].get("myst_enable_extensions", []))
    if "substitution" not in extensions:
        extensions.append("substitution")
    config["parse"]["myst_enable_extensions"] = extensions
    if repository is None:
        launch = "Run the notebooks yourself with `make lab` in a clone of the repository."
    else:
        owner_repo = repository.removeprefix("https://github.com/")
        binder = f"{BINDER}/{owner_repo}/{branch}?urlpath=lab/tree/notebooks"
        launch = (
            f"[Open the notebooks in JupyterLab on Binder]({binder}), or run `make lab` in a clone of "
            f"[the repository]({repository})."
        )
        config["repository"] = {"url": repository, "branch": branch, "path_to_book": ""}
        config["html"] = {**base.get("html", {}), "use_repository_button": True, "use_issues_button": True}
    config["parse"]["myst_substitutions"] = {**config["parse"].get("myst_substitutions", {}), "launch": launch}
    return config


def write_book_config(root: str | Path, out: str | Path, *, repository: str | None = None) -> Path:
    """Write the build configuration of the book at ``root`` to ``out``; ``repository`` defaults to ``origin``'s."""
    root, out = Path(root), Path(out)
    base = yaml.safe_load((root / "_config.yml").read_text())
    config = book_config(base, repository=repository or repository_url(root))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    return out


def book_inputs(root: str | Path, config: str | Path) -> dict[str, str]:
    """Stamps of what the book is built from: ``_toc.yml``, ``_config.yml``, ``book/`` and the build configuration.

    Parameters
    ----------
    root : str or Path
        The book's source folder (the project root).
    config : str or Path
        The build configuration written by :func:`write_book_config` (rewritten on each call: its content counts).

    Returns
    -------
    dict[str, str]
        Stamp by path: size and modification time of the sources, every file of ``book/`` (the executed notebooks
        included), and the configuration's SHA-256.
    """
    root = Path(root).resolve()
    stamps = {name: path_stamp(root / name) for name in BOOK_SOURCES}
    config = Path(config).resolve()
    stamps[path_key(config, root)] = f"sha256={file_sha256(config)}"
    return stamps


def book_is_current(root: str | Path, inputs: dict[str, str]) -> bool:
    """Whether ``_build/html/index.html`` exists and the last successful build had these :func:`book_inputs`."""
    record = Path(root, BUILD_RECORD)
    if not Path(root, "_build", "html", "index.html").exists() or not record.exists():
        return False
    return json.loads(record.read_text()) == inputs


def record_book_build(root: str | Path, inputs: dict[str, str]) -> Path:
    """Record the :func:`book_inputs` of a successful build in ``_build/book_inputs.json``."""
    record = Path(root, BUILD_RECORD)
    record.write_text(json.dumps(inputs, indent=2) + "\n")
    return record
