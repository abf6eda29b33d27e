"""Whether a notebook of the series must run again: fingerprints of what it reads, records of what it wrote.

A notebook's reads and writes are known from its path-valued parameters (strings, or lists and dicts of
strings, naming files or folders): the profile's, and the defaults of its ``parameters`` cell that the profile
leaves. A path parameter it wrote into on its last run is an output location; the others are its inputs, and so
are the weights files of the released models and model cards its parameters name, as the loaders find them.
Files are stamped by size and modification time, so a rewritten file counts as changed even when its bytes
are equal. Its source and package code count as :mod:`celldino_utils.runner.notebook_code` reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from celldino_utils.models import (
    RELEASED_MODELS,
    ReleasedModel,
    default_weights_path,
    is_model_card,
    read_model_card,
)
from celldino_utils.runner.notebook_code import PACKAGE, notebook_defaults, notebook_source_hash, package_code

MISSING = "missing"
_NO_RECORD = {"failed": "last run failed", "running": "last run interrupted"}  # entries without a fingerprint


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_stamp(stat: os.stat_result) -> str:
    return f"size={stat.st_size} mtime_ns={stat.st_mtime_ns}"


def parameters_hash(params: Mapping[str, Any]) -> str:
    """SHA-256 of a notebook's parameters as canonical JSON (sorted keys).

    Parameters
    ----------
    params : Mapping[str, Any]
        The parameters a profile gives the notebook.
    """
    return _sha256(json.dumps(params, sort_keys=True, separators=(",", ":"), default=str).encode())


def _is_path(value: str, root: Path) -> bool:
    if "://" in value or not value.strip():
        return False
    return os.path.isabs(value) or value.startswith("~") or "/" in value or (root / value).exists()


def path_parameters(params: Mapping[str, Any], root: str | Path) -> list[Path]:
    """The files and folders a notebook's parameters name, as absolute paths, in parameter order.

    Parameters
    ----------
    params : Mapping[str, Any]
        The notebook's parameters; strings in lists and dict values count too.
    root : str or Path
        The project root, against which relative paths resolve.

    Returns
    -------
    list[Path]
        Every string that is absolute, starts with ``~``, holds a ``/`` (not a URL) or names an existing path under
        ``root``; each path once.
    """
    root = Path(root)
    found = [resolve_key(v, root) for v in _strings(dict(params)) if _is_path(v, root)]
    return list(dict.fromkeys(found))


def model_weights(params: Mapping[str, Any], root: str | Path) -> list[Path]:
    """The weights files of the released models (by name) and model cards (by path) that parameters name.

    Parameters
    ----------
    params : Mapping[str, Any]
        A notebook's parameters; strings in lists and dict values count too.
    root : str or Path
        The project root, against which relative paths resolve.

    Returns
    -------
    list[Path]
        For a name, the file of the ``released/`` folder the loaders find for it (or where it is to be saved,
        :func:`celldino_utils.models.default_weights_path`); for a card, its ``weights``. Each file once.
    """
    models = [_named_model(value, Path(root)) for value in _strings(dict(params))]
    return list(dict.fromkeys(default_weights_path(model, root=root) for model in models if model is not None))


def _named_model(value: str, root: Path) -> ReleasedModel | None:
    """The registry entry ``value`` names, or the model card at that path; None for anything else."""
    if value in RELEASED_MODELS:
        return RELEASED_MODELS[value]
    if not _is_path(value, root) or not is_model_card(resolve_key(value, root)):
        return None
    try:
        return read_model_card(resolve_key(value, root))
    except ValueError:  # another YAML file (a training config), or a card its notebook refuses, naming the fault
        return None


def _strings(value: Any) -> Iterator[str]:
    """Every string of ``value``: itself, or those in its mapping values and list items, recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def notebook_paths(notebook: str | Path, params: Mapping[str, Any], root: str | Path) -> list[Path]:
    """The :func:`path_parameters` of a notebook, those of ``params`` and of the defaults it leaves, then the
    :func:`model_weights` they name."""
    merged = {**notebook_defaults(notebook), **params}
    return list(dict.fromkeys([*path_parameters(merged, root), *model_weights(merged, root)]))


def resolve_key(key: str, root: str | Path) -> Path:
    """The absolute path of a path as written in a parameter or a manifest (relative ones under ``root``)."""
    return Path(os.path.normpath(Path(root) / Path(key).expanduser()))


def path_key(path: Path, root: str | Path) -> str:
    """How the manifest names a path: relative to ``root`` when under it, else absolute."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _files_under(path: Path, skip: frozenset[str]) -> Iterator[Path]:
    """Every file under ``path`` (itself, if a file), leaving out the files and folders in ``skip``."""
    if path.is_file():
        yield path
        return
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if os.path.join(folder, d) not in skip)
        yield from (Path(folder, f) for f in sorted(files) if os.path.join(folder, f) not in skip)


def snapshot(paths: Iterable[Path], ignore: Iterable[Path] = ()) -> dict[Path, str]:
    """The stamp (size and modification time) by file of every file under ``paths``, files under ``ignore`` left out.

    Parameters
    ----------
    paths : Iterable[Path]
        Absolute files and folders; missing ones are skipped.
    ignore : Iterable[Path]
        Absolute files and folders to leave out.
    """
    skip = frozenset(map(str, ignore))
    return {file: _file_stamp(file.stat()) for path in paths for file in _files_under(path, skip)}


def path_stamp(path: Path, ignore: Iterable[Path] = ()) -> str:
    """A file's size and modification time; for a folder, the count and a digest of its files' names and stamps.

    Parameters
    ----------
    path : Path
        An absolute file or folder.
    ignore : Iterable[Path]
        Absolute files and folders under ``path`` to leave out.

    Returns
    -------
    str
        The stamp; ``"missing"`` when nothing is at ``path``.
    """
    if not path.exists():
        return MISSING
    if path.is_file():
        return _file_stamp(path.stat())
    files = snapshot([path], ignore)
    listing = "\n".join(f"{file.relative_to(path).as_posix()} {stamp}" for file, stamp in files.items())
    return f"files={len(files)} sha256={_sha256(listing.encode())[:16]}"


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
        The notebook's path parameters (:func:`notebook_paths`).
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
    *,
    root: str | Path,
    outputs: Iterable[str] = (),
    ignore: Iterable[Path] = (),
    package: str = PACKAGE,
) -> dict[str, Any]:
    """What a notebook's results depend on: its source, parameters, package code and input files.

    Parameters
    ----------
    notebook : str or Path
        The ``.ipynb`` file.
    params : Mapping[str, Any]
        Its parameters.
    root : str or Path
        The project root.
    outputs : Iterable[str]
        Keys of the files it wrote on its last run: the path parameters holding them are not inputs.
    ignore : Iterable[Path]
        Files and folders never counted as inputs.
    package : str
        The package whose code counts (see :func:`package_code`).

    Returns
    -------
    dict[str, Any]
        ``source`` and ``parameters`` (digests), ``code`` (digest by package file) and ``inputs`` (stamp by path).
    """
    return {
        "source": notebook_source_hash(notebook),
        "parameters": parameters_hash(params),
        "code": package_code(notebook, package),
        "inputs": input_stamps(notebook_paths(notebook, params, root), root=root, outputs=outputs, ignore=ignore),
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
        ``"package code changed: <file>"``, ``"input changed: <path>"``, ``"output missing: <file>"``,
        ``"output changed: <file>"``, or None.
    """
    if not previous or "fingerprint" not in previous:
        return _NO_RECORD.get((previous or {}).get("status", ""), "first run")
    last = previous["fingerprint"]
    for part, reason in (("source", "notebook source changed"), ("parameters", "parameters changed")):
        if last[part] != current[part]:
            return reason
    for part, reason in (("code", "package code changed"), ("inputs", "input changed")):
        changed = _first_difference(last[part], current[part])
        if changed is not None:
            return f"{reason}: {changed}"
    for key, stamp in previous.get("outputs", {}).items():
        now = path_stamp(resolve_key(key, root))
        if now != stamp:
            return f"output {'missing' if now == MISSING else 'changed'}: {key}"
    return None


def expected_runs(
    reasons: Mapping[str, str | None], entries: Mapping[str, Mapping[str, Any]], *, root: str | Path
) -> list[str]:
    """The notebooks expected to run: those stale now, and those reading what an expected one wrote last time.

    Parameters
    ----------
    reasons : Mapping[str, str or None]
        :func:`stale_reason` of each notebook now, in series order.
    entries : Mapping[str, Mapping[str, Any]]
        The notebooks' entries in the last manifest.
    root : str or Path
        The project root.

    Returns
    -------
    list[str]
        Notebook stems, in series order.
    """
    expected: list[str] = []
    written: list[Path] = []
    for stem, reason in reasons.items():
        entry = entries.get(stem, {})
        reads = [resolve_key(key, root) for key in entry.get("fingerprint", {}).get("inputs", {})]
        if reason is not None or _holding(reads, written):
            expected.append(stem)
            written += [resolve_key(key, root) for key in entry.get("outputs", {})]
    return expected
