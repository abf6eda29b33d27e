"""Whether a notebook of the series must run again: fingerprints of what it reads, records of what it wrote.

What a notebook reads and writes is what ``configs/notebooks.yaml`` declares
(:mod:`celldino_utils.runner.declarations`): the files, folders and released models its ``reads`` parameters name,
the profile sections it reads, and the locations it may write. A write location it wrote into on its last run
holds outputs, not inputs. Files are stamped by :mod:`celldino_utils.io.stamps` (size and modification time, so
a rewritten file counts as changed even when its bytes are equal); sections by the digest of their values. Its
source and package code count as :mod:`celldino_utils.runner.notebook_code` reads them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from celldino_utils.io.stamps import MISSING, path_stamp, value_sha256
from celldino_utils.runner.declarations import Access, path_key, resolve_key
from celldino_utils.runner.notebook_code import PACKAGE, notebook_source_hash, package_code

_NO_RECORD = {"failed": "last run failed", "running": "last run interrupted"}  # entries without a fingerprint


def _holding(paths: Iterable[Path], files: Iterable[Path]) -> list[Path]:
    """The ``paths`` that are one of ``files`` or a folder above one."""
    names = [str(file) for file in files]
    return [p for p in paths if any(name == str(p) or name.startswith(os.path.join(p, "")) for name in names)]


def input_stamps(
    paths: list[Path], *, root: str | Path, outputs: Iterable[str], ignore: Iterable[Path] = ()
) -> dict[str, str]:
    """Stamps of a notebook's inputs: its path parameters other than its output locations.

    Parameters
    ----------
    paths : list[Path]
        What the notebook reads (:attr:`Access.reads`).
    root : str or Path
        The project root.
    outputs : Iterable[str]
        Keys of the files the notebook wrote on its last run (see :func:`written_outputs`).
    ignore : Iterable[Path]
        Files and folders never counted (the run manifest, the executed notebooks).

    Returns
    -------
    dict[str, str]
        Stamp by path key; files in output locations are left out of folder stamps.
    """
    locations = _holding(paths, [resolve_key(key, root) for key in outputs])
    skip = [*ignore, *locations]
    return {path_key(p, root): path_stamp(p, skip) for p in paths if p not in locations}


def fingerprint(
    notebook: str | Path,
    params: Mapping[str, Any],
    access: Access,
    *,
    root: str | Path,
    outputs: Iterable[str] = (),
    ignore: Iterable[Path] = (),
    package: str = PACKAGE,
) -> dict[str, Any]:
    """What a notebook's results depend on: its source, parameters, package code, input files and profile sections.

    Parameters
    ----------
    notebook : str or Path
        The ``.ipynb`` file.
    params : Mapping[str, Any]
        Its parameters.
    access : Access
        What it reads and writes (:func:`celldino_utils.runner.declarations.resolve_access`).
    root : str or Path
        The project root.
    outputs : Iterable[str]
        Keys of the files it wrote on its last run: the read paths holding them are not inputs.
    ignore : Iterable[Path]
        Files and folders never counted as inputs.
    package : str
        The package whose code counts (see :func:`package_code`).

    Returns
    -------
    dict[str, Any]
        ``source`` and ``parameters`` (digests), ``code`` (digest by package file), ``inputs`` (stamp by path) and
        ``sections`` (digest by profile section).
    """
    return {
        "source": notebook_source_hash(notebook),
        "parameters": value_sha256(dict(params)),
        "code": package_code(notebook, package),
        "inputs": input_stamps(list(access.reads), root=root, outputs=outputs, ignore=ignore),
        "sections": {name: value_sha256(value) for name, value in access.sections.items()},
    }


def written_outputs(before: Mapping[Path, str], after: Mapping[Path, str], root: str | Path) -> dict[str, str]:
    """The files created or modified between two snapshots, with their stamps, by path key."""
    return {path_key(file, root): stamp for file, stamp in after.items() if before.get(file) != stamp}


def _first_difference(old: Mapping[str, str], new: Mapping[str, str]) -> str | None:
    return next((key for key in [*new, *old] if old.get(key) != new.get(key)), None)


def stale_reason(previous: Mapping[str, Any] | None, current: Mapping[str, Any], *, root: str | Path) -> str | None:
    """Why a notebook must run again, or None if it is up to date.

    Parameters
    ----------
    previous : Mapping[str, Any] or None
        The notebook's entry in the last manifest (``status``, ``fingerprint``, ``outputs``), if any.
    current : Mapping[str, Any]
        Its :func:`fingerprint` now, with the outputs of ``previous``.
    root : str or Path
        The project root.

    Returns
    -------
    str or None
        ``"first run"``, ``"last run failed"``, ``"notebook source changed"``, ``"parameters changed"``,
        ``"package code changed: <file>"``, ``"input changed: <path>"``,
        ``"profile section changed: <section>"``, ``"output missing: <file>"``,
        ``"output changed: <file>"``, or None.
    """
    if not previous or "fingerprint" not in previous:
        return _NO_RECORD.get((previous or {}).get("status", ""), "first run")
    last = previous["fingerprint"]
    for part, reason in (("source", "notebook source changed"), ("parameters", "parameters changed")):
        if last[part] != current[part]:
            return reason
    parts = (("code", "package code changed"), ("inputs", "input changed"), ("sections", "profile section changed"))
    for part, reason in parts:
        changed = _first_difference(last.get(part, {}), current[part])
        if changed is not None:
            return f"{reason}: {changed}"
    for key, stamp in previous.get("outputs", {}).items():
        now = path_stamp(resolve_key(key, root))
        if now != stamp:
            return f"output {'missing' if now == MISSING else 'changed'}: {key}"
    return None


def expected_runs(reasons: Mapping[str, str | None], accesses: Mapping[str, Access]) -> list[str]:
    """The notebooks expected to run: those stale now, and those reading what an expected one may write.

    Parameters
    ----------
    reasons : Mapping[str, str or None]
        :func:`stale_reason` of each notebook now, in series order.
    accesses : Mapping[str, Access]
        What each notebook reads and writes.

    Returns
    -------
    list[str]
        Notebook stems, in series order.
    """
    expected: list[str] = []
    for stem, reason in reasons.items():
        reads = accesses[stem].reads
        if reason is not None or any(w.overlaps(r) for e in expected for w in accesses[e].writes for r in reads):
            expected.append(stem)
    return expected
