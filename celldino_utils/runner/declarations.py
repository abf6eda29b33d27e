"""What each notebook of the series reads and writes, as ``configs/notebooks.yaml`` declares it.

The table names, for each notebook, its parameters by what they hold, so one table serves every profile::

    02_embed:
      reads: [hpa_data, hpa_checkpoint]   # files, folders, released models (by name) or model cards
      writes: [embeddings_dir, out_dir/embed_*]  # a location, or a pattern of file names under it
      sections: [synthetic]               # profile sections the notebook reads by the profile's name
      files: [configs/train/tiny_cpu.yaml]  # project files read without a parameter naming them
      options: [hpa_read_options]         # reader options: files named relative to a location read

A released model named in a ``reads`` parameter counts as the weights file the loaders find for it, a model
card as the card and its weights. A parameter that names a path (:func:`names_path`) or a released model
must be declared: the runner refuses a
profile whose notebooks would read or write undeclared places. The order of the series comes from the table:
a notebook runs after those that write what it reads (:func:`series_order`).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from celldino_utils.models import (
    RELEASED_MODELS,
    ReleasedModel,
    default_weights_path,
    is_model_card,
    read_model_card,
)

#: The declaration table of a project checkout, relative to its root.
DECLARATIONS = "configs/notebooks.yaml"
#: The suffix of a weights file of our training.
CHECKPOINT_SUFFIX = ".pth"
#: Keys a notebook's entry may hold.
DECLARATION_KEYS = ("reads", "writes", "sections", "files", "options")


@dataclass(frozen=True)
class Declaration:
    """One notebook's entry of the table: parameter names (``writes`` may add ``/<pattern>``), sections, files."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    @property
    def write_parameters(self) -> tuple[str, ...]:
        """The parameters of ``writes``, without their patterns."""
        return tuple(entry.split("/", 1)[0] for entry in self.writes)


@dataclass(frozen=True)
class Location:
    """A place a notebook may write: ``path`` (a file or folder), or the files under it that match ``pattern``."""

    path: Path
    pattern: str | None = None

    def holds(self, file: Path) -> bool:
        """Whether ``file`` (absolute) is this location or lies in it (and matches the pattern, if any)."""
        if not file.is_relative_to(self.path):
            return False
        return self.pattern is None or fnmatch.fnmatch(file.relative_to(self.path).as_posix(), self.pattern)

    def overlaps(self, path: Path) -> bool:
        """Whether a notebook reading ``path`` (absolute) may read something written here."""
        return self.holds(path) or self.path.is_relative_to(path)

    def meets(self, other: Location) -> bool:
        """Whether a file could lie in both locations: nested paths whose patterns do not keep them apart.

        Two patterns in the same folder keep their files apart when neither matches the other as a name
        (``table_A.*`` and ``figure_C*``); anything less certain counts as meeting.
        """
        if self.path == other.path and self.pattern and other.pattern:
            return fnmatch.fnmatch(self.pattern, other.pattern) or fnmatch.fnmatch(other.pattern, self.pattern)
        return self.path.is_relative_to(other.path) or other.path.is_relative_to(self.path)


@dataclass(frozen=True)
class Access:
    """What a notebook reads and writes under one profile: absolute paths, and the profile sections it reads."""

    reads: tuple[Path, ...]
    writes: tuple[Location, ...]
    sections: Mapping[str, Any]

    def writes_file(self, file: Path) -> bool:
        """Whether ``file`` (absolute) lies in one of the declared write locations."""
        return any(location.holds(file) for location in self.writes)

    def must_follow(self, earlier: Access) -> bool:
        """Whether this notebook must wait for ``earlier`` (before it in the series) to finish: it reads what
        ``earlier`` writes, writes what ``earlier`` reads, or writes where ``earlier`` writes. Otherwise the two may
        run side by side."""
        return (
            any(w.overlaps(r) for w in earlier.writes for r in self.reads)
            or any(w.overlaps(r) for w in self.writes for r in earlier.reads)
            or any(w.meets(v) for w in self.writes for v in earlier.writes)
        )


def resolve_key(key: str, root: str | Path) -> Path:
    """The absolute path of a path as written in a parameter or a manifest (relative ones under ``root``)."""
    return Path(os.path.normpath(Path(root) / Path(key).expanduser()))


def path_key(path: Path, root: str | Path) -> str:
    """How the manifest names a path: relative to ``root`` when under it, else absolute."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def load_declarations(root: str | Path) -> dict[str, Declaration]:
    """The declaration table of the checkout at ``root``, by notebook stem.

    Raises
    ------
    FileNotFoundError
        If the checkout has no :data:`DECLARATIONS`.
    ValueError
        Naming the notebook and key, if an entry is not a mapping of :data:`DECLARATION_KEYS` to lists of strings.
    """
    path = Path(root) / DECLARATIONS
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing; it declares what each notebook reads and writes")
    table = yaml.safe_load(path.read_text()) or {}
    declarations = {}
    for stem, entry in table.items():
        entry = entry or {}
        unknown = sorted(set(entry) - set(DECLARATION_KEYS)) if isinstance(entry, dict) else None
        if unknown is None or unknown:
            raise ValueError(f"{path}: {stem}: must map {list(DECLARATION_KEYS)} to lists, got {entry!r}")
        for key, values in entry.items():
            if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
                raise ValueError(f"{path}: {stem}.{key}: must be a list of names, got {values!r}")
        declarations[str(stem)] = Declaration(**{key: tuple(values) for key, values in entry.items()})
    return declarations


def strings(value: Any) -> Iterator[str]:
    """Every string of ``value``: itself, or those in its mapping values and list items, recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def names_path(value: str, root: str | Path) -> bool:
    """Whether a parameter string names a path: absolute, ``~``, naming something under ``root``, or a ``/`` in one
    word (not a URL; a sentence such as a data set's description may hold a ``/``)."""
    if "://" in value or not value.strip():
        return False
    one_word = "/" in value and not any(space.isspace() for space in value)
    return os.path.isabs(value) or value.startswith("~") or one_word or (Path(root) / value).exists()


def _named_model(value: str, root: Path) -> ReleasedModel | None:
    """The registry entry ``value`` names, or the model card at that path; None for anything else."""
    if value in RELEASED_MODELS:
        return RELEASED_MODELS[value]
    path = resolve_key(value, root)
    if not is_model_card(path):
        return None
    try:
        return read_model_card(path)
    except ValueError:  # a card its notebook refuses, naming the fault
        return None


def read_paths(value: Any, root: str | Path) -> list[Path]:
    """The files and folders a ``reads`` parameter's value names, each once, in order.

    A released model's name counts as the weights file the loaders find for it (or where it is to be saved,
    :func:`celldino_utils.models.default_weights_path`); a model card as the card and its weights file; a weights
    file of our training (``.pth``) as the folder of its run, whose ``config.yaml`` the loaders read beside it (and
    the compute curve the backbones kept there); any other non-empty string as the path it names (relative ones
    under ``root``).
    """
    root = Path(root)
    found = []
    for text in strings(value):
        if not text.strip() or "://" in text:
            continue
        model, path = _named_model(text, root), resolve_key(text, root)
        if model is None and path.suffix == CHECKPOINT_SUFFIX:
            found.append(path.parent)  # a checkpoint of ours: its run (config beside it, backbones kept beside it)
        elif model is None or text not in RELEASED_MODELS:
            found.append(path)
        if model is not None:
            found.append(default_weights_path(model, root=root))
    return list(dict.fromkeys(found))


def _write_locations(entry: str, params: Mapping[str, Any], root: Path) -> list[Location]:
    parameter, _, pattern = entry.partition("/")
    return [
        Location(resolve_key(text, root), pattern or None) for text in strings(params.get(parameter)) if text.strip()
    ]


def _section(profile: Mapping[str, Any], dotted: str) -> Any:
    """The value of section ``dotted`` (``synthetic``, ``synthetic.hpa``) of ``profile``; None where it has none."""
    value: Any = profile
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def resolve_access(
    declaration: Declaration, params: Mapping[str, Any], profile: Mapping[str, Any], *, root: str | Path
) -> Access:
    """What a notebook reads and writes with ``params`` (its parameters, defaults included) under ``profile``."""
    root = Path(root)
    reads = [path for name in declaration.reads for path in read_paths(params.get(name), root)]
    reads += [resolve_key(file, root) for file in declaration.files]
    writes = [location for entry in declaration.writes for location in _write_locations(entry, params, root)]
    sections = {name: _section(profile, name) for name in declaration.sections}
    return Access(tuple(dict.fromkeys(reads)), tuple(dict.fromkeys(writes)), sections)


def undeclared_parameters(
    declaration: Declaration, params: Mapping[str, Any], declared: Mapping[str, str], *, root: str | Path
) -> list[str]:
    """Problems of a notebook's entry: parameters it names that the notebook lacks, and undeclared paths or models.

    Parameters
    ----------
    declaration : Declaration
        The notebook's entry.
    params : Mapping[str, Any]
        Its parameters, defaults included.
    declared : Mapping[str, str]
        The parameters its ``parameters`` cell declares (name to type).
    root : str or Path
        The project root.

    Returns
    -------
    list[str]
        One line per problem; empty when the entry covers every path and model its parameters name.
    """
    named = [*declaration.reads, *declaration.write_parameters, *declaration.options]
    problems = [
        f"declares {name!r}, which is not a parameter of the notebook" for name in named if name not in declared
    ]
    for name, value in params.items():
        if name in named:
            continue
        texts = [text for text in strings(value) if names_path(text, root) or text in RELEASED_MODELS]
        if texts:
            problems.append(f"parameter {name!r} names {texts[0]!r} but is declared neither read nor written")
    return problems


def series_order(stems: list[str], accesses: Mapping[str, Access]) -> list[str]:
    """The notebooks in an order where each runs after every other that writes what it reads.

    Parameters
    ----------
    stems : list[str]
        The notebooks, in the order to keep where the declarations leave it open (file name order).
    accesses : Mapping[str, Access]
        Each notebook's :class:`Access`.

    Raises
    ------
    ValueError
        If two notebooks each read what the other writes, naming them.
    """
    after = {
        stem: {
            other
            for other in stems
            if other != stem and any(w.overlaps(r) for w in accesses[other].writes for r in accesses[stem].reads)
        }
        for stem in stems
    }
    order: list[str] = []
    while len(order) < len(stems):
        ready = [stem for stem in stems if stem not in order and after[stem] <= set(order)]
        if not ready:
            left = [stem for stem in stems if stem not in order]
            raise ValueError(f"notebooks {left} read what each other write; no order runs them (see {DECLARATIONS})")
        order.append(ready[0])
    return order
