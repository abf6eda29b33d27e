"""The book's build configuration: ``_config.yml`` plus the repository it is built from.

The repository's address is known only where the book is built (a clone's ``origin``; GitHub
Actions checks out with it), so it is not written in ``_config.yml``: :func:`write_book_config`
adds it to a copy, with the repository and issue buttons and a launch link, and the build uses that copy.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

BINDER = "https://mybinder.org/v2/gh"
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
