"""Execute the notebook series in order with papermill, as one reproducible run."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import papermill
from papermill.exceptions import PapermillExecutionError

from celldino_utils.config.profiles import check_inputs, load_profile, validate_profile
from celldino_utils.runner.manifest import checksum_tree, git_commit, package_versions, write_manifest

MANIFEST_NAME = "run_manifest.json"


class NotebookFailed(RuntimeError):
    """A notebook of the series raised; the message names the notebook and the failing cell."""


def series_notebooks(root: str | Path) -> list[Path]:
    """The notebooks of the series, ``notebooks/NN_*.ipynb``, in order."""
    notebooks = sorted(Path(root, "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks/NN_*.ipynb under {Path(root).resolve()}")
    return notebooks


def _data_checksums(profile: dict[str, Any], root: Path) -> dict[str, Any]:
    sums = {}
    for key, value in (profile.get("paths") or {}).items():
        if key.endswith("_data") and (root / str(value)).exists():
            sums[key] = {"path": str(value), **checksum_tree(root / str(value))}
    return sums


def _execute(notebook: Path, params: dict[str, Any], *, root: Path, out: Path) -> None:
    try:
        papermill.execute_notebook(
            str(notebook), str(out), parameters=params, kernel_name="python3", cwd=str(root), progress_bar=False
        )
    except PapermillExecutionError as err:
        raise NotebookFailed(
            f"{notebook.name} failed in cell {err.cell_index} (execution count {err.exec_count}): "
            f"{err.ename}: {err.evalue}. The executed copy with the traceback is {out}"
        ) from None


def _with_earlier_entries(manifest: dict[str, Any], path: Path, notebooks: list[Path]) -> dict[str, Any]:
    """This run's notebook entries, plus those an earlier manifest of the same profile holds for the others.

    A partial run (``only``) must not erase the record of the notebooks it did not run: each kept entry
    says which run (``started``, ``commit``) it comes from.
    """
    earlier = json.loads(path.read_text()) if path.exists() else {}
    if earlier.get("profile") != manifest["profile"]:
        earlier = {}
    source = {"started": earlier.get("started"), "commit": (earlier.get("git") or {}).get("commit")}
    merged = {}
    for stem in (nb.stem for nb in notebooks):
        if stem in manifest["notebooks"]:
            merged[stem] = manifest["notebooks"][stem]
        elif stem in earlier.get("notebooks", {}):
            merged[stem] = {**earlier["notebooks"][stem], "earlier_run": source}
    return merged


def run_series(
    profile_name: str,
    *,
    root: str | Path = ".",
    only: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run every notebook of the series with the parameters of a profile and write the run manifest.

    Parameters
    ----------
    profile_name
        A profile of ``configs/profiles`` (``default``, ``tiny``...).
    only
        Notebook stems to run (all when empty); the others are validated but not run.

    Returns
    -------
    dict
        The manifest, written to ``<paths.figures>/run_manifest.json``; executed notebooks go to ``paths.executed``.

    Raises
    ------
    NotebookFailed
        At the first notebook that fails, naming it and the failing cell; the manifest records the failure.
    """
    root = Path(root).resolve()
    profile = load_profile(profile_name, root=root)
    notebooks = series_notebooks(root)
    validate_profile(profile, notebooks)
    unknown = sorted(set(only) - {nb.stem for nb in notebooks})
    if unknown:
        raise ValueError(f"unknown notebook(s) {unknown}; notebooks: {[nb.stem for nb in notebooks]}")
    manifest: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile_name,
        "git": git_commit(root),
        "packages": package_versions(),
        "notebooks": {},
    }
    paths = profile.get("paths") or {}
    missing = [key for key in ("executed", "figures") if key not in paths]
    if missing:
        raise ValueError(f"profile {profile_name!r}: paths.{missing[0]} is required")
    executed_dir, figures_dir = root / paths["executed"], root / paths["figures"]
    executed_dir.mkdir(parents=True, exist_ok=True)
    try:
        for notebook in notebooks:
            if only and notebook.stem not in only:
                continue
            params = profile["notebooks"][notebook.stem] or {}
            check_inputs(params, notebook=notebook.name, root=root)
            entry = manifest["notebooks"][notebook.stem] = {"parameters": params, "status": "running"}
            start = time.perf_counter()
            try:
                _execute(notebook, params, root=root, out=executed_dir / notebook.name)
                entry["status"] = "ok"
            except NotebookFailed:
                entry["status"] = "failed"
                raise
            finally:
                entry["wall_time_s"] = round(time.perf_counter() - start, 2)
    finally:
        if only:
            manifest["notebooks"] = _with_earlier_entries(manifest, figures_dir / MANIFEST_NAME, notebooks)
        manifest["total_wall_time_s"] = round(sum(e["wall_time_s"] for e in manifest["notebooks"].values()), 2)
        manifest["data"] = _data_checksums(profile, root)
        write_manifest(manifest, figures_dir / MANIFEST_NAME)
    return manifest
