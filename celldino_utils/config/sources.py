"""The external inputs a profile declares in its ``sources`` section, and which of them are missing.

Each entry names a path (a file, or a folder that must not be empty) or a released model, says what it is and
where to get it; :func:`missing_sources` returns one :class:`MissingInput` per entry that is not there or that
is declared wrongly. Released models are looked up by the caller (``check_model``): this module sits below the
models layer and knows no registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Keys a ``sources`` entry may hold.
SOURCE_KEYS = ("path", "model", "weights", "what", "source")


@dataclass(frozen=True)
class Source:
    """One external input of a profile: a ``path`` or a released ``model`` (with optional ``weights`` file).

    Attributes
    ----------
    name : str
        The entry's key in ``sources``.
    what : str
        What the input is, in one line.
    source : str
        Where to get it (a ``data/README.md`` section, an accession, a competition name); may be empty for a
        model, whose registry entry says where its weights are requested.
    path, model, weights : str or None
        The path (as written, relative ones under the project root), or the model's registry name and its
        weights file (None: the model's default weights path).
    """

    name: str
    what: str
    source: str
    path: str | None = None
    model: str | None = None
    weights: str | None = None


@dataclass(frozen=True)
class MissingInput:
    """One line of the check: an input that is not there, or a ``sources`` entry that cannot be checked."""

    name: str
    line: str

    @classmethod
    def missing(cls, name: str, where: str, what: str, source: str) -> MissingInput:
        """``missing: <name>: <where> (<what>); get it from <source>``."""
        return cls(name, f"missing: {name}: {where} ({what}); get it from {source}")

    @classmethod
    def invalid(cls, name: str, problem: str) -> MissingInput:
        """``invalid: <name>: <problem>``, for an entry declared wrongly."""
        return cls(name, f"invalid: {name}: {problem}")

    def __str__(self) -> str:
        return self.line


def read_source(name: str, entry: object) -> Source | MissingInput:
    """The :class:`Source` a ``sources`` entry declares, or why it cannot be checked."""
    if not isinstance(entry, dict):
        return MissingInput.invalid(name, f"must be a mapping of {list(SOURCE_KEYS)}, got {entry!r}")
    unknown = sorted(set(entry) - set(SOURCE_KEYS))
    if unknown:
        return MissingInput.invalid(name, f"unknown key(s) {unknown}; allowed: {list(SOURCE_KEYS)}")
    given = {key: str(value) for key, value in entry.items() if value not in (None, "")}
    if ("path" in given) == ("model" in given):
        return MissingInput.invalid(name, "needs either a 'path' or a 'model' (a released model's name)")
    if "weights" in given and "model" not in given:
        return MissingInput.invalid(name, "'weights' goes with a 'model', not a 'path'")
    if "what" not in given:
        return MissingInput.invalid(name, "needs 'what': what the input is, in one line")
    if "path" in given and "source" not in given:
        return MissingInput.invalid(name, "needs 'source': a data/README.md section, an accession or a competition")
    return Source(
        name, given["what"], given.get("source", ""), given.get("path"), given.get("model"), given.get("weights")
    )


def is_present(path: str | Path, *, root: str | Path) -> bool:
    """Whether ``path`` (relative ones under ``root``) is a file or a folder holding something."""
    found = Path(root) / Path(path).expanduser()
    return found.is_file() or (found.is_dir() and any(found.iterdir()))


def missing_sources(
    profile: dict[str, Any], *, root: str | Path, check_model: Callable[[Source], MissingInput | None]
) -> list[MissingInput]:
    """The inputs of ``profile["sources"]`` that are missing or declared wrongly, in the profile's order.

    Parameters
    ----------
    profile : dict
        A loaded profile; no ``sources`` section means no external inputs.
    root : str or Path
        The project checkout relative paths are under.
    check_model : Callable[[Source], MissingInput or None]
        Checks an entry that names a model: why it is missing or wrong, or None when its weights are there.

    Returns
    -------
    list of MissingInput
        Empty when every input is present.
    """
    missing = []
    for name, entry in (profile.get("sources") or {}).items():
        source = read_source(str(name), entry)
        found = source if isinstance(source, MissingInput) else _missing(source, root, check_model)
        if found is not None:
            missing.append(found)
    return missing


def _missing(
    source: Source, root: str | Path, check_model: Callable[[Source], MissingInput | None]
) -> MissingInput | None:
    """Why a well-declared input is missing, or None when it is there."""
    if source.model is not None:
        return check_model(source)
    if is_present(source.path, root=root):
        return None
    return MissingInput.missing(source.name, source.path, source.what, source.source)
