"""The check of a profile before a run: parameters against the notebooks, declarations, order, external inputs.

Everything here reads YAML and notebook files and looks at the disk; nothing imports torch, timm or papermill,
so ``celldino run --check`` answers in about a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celldino_utils.config.profiles import load_profile
from celldino_utils.runner.declarations import (
    DECLARATIONS,
    Access,
    load_declarations,
    resolve_access,
    series_order,
    undeclared_parameters,
)
from celldino_utils.runner.inputs import require_inputs
from celldino_utils.runner.notebook_code import notebook_defaults, notebook_parameters, type_name


def series_notebooks(root: str | Path) -> list[Path]:
    """The notebooks of the series, ``notebooks/NN_*.ipynb``, in file name order."""
    notebooks = sorted(Path(root, "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks/NN_*.ipynb under {Path(root).resolve()}")
    return notebooks


def _compatible(value: object, declared: str) -> bool:
    declared = declared.split("[")[0].strip()
    actual = type_name(value)
    if declared in ("None", "", "Any") or actual == "None":
        return True
    if declared == "float" and actual == "int":
        return True
    return actual == declared


def validate_profile(profile: dict[str, Any], notebooks: list[Path]) -> None:
    """Check that the profile names every notebook, and that each parameter exists and has the declared type.

    Raises
    ------
    ValueError
        Naming the notebook and the parameter at fault.
    """
    stems = [nb.stem for nb in notebooks]
    given = profile["notebooks"]
    unknown = sorted(set(given) - set(stems))
    if unknown:
        raise ValueError(
            f"profile {profile.get('name')!r} names notebook(s) {unknown} that do not exist; notebooks: {stems}"
        )
    missing = [s for s in stems if s not in given]
    if missing:
        raise ValueError(f"profile {profile.get('name')!r} has no entry for notebook(s) {missing}")
    for notebook in notebooks:
        declared = notebook_parameters(notebook)
        for key, value in (given[notebook.stem] or {}).items():
            if key not in declared:
                raise ValueError(
                    f"{notebook.name}: profile parameter {key!r} is not declared; declared: {sorted(declared)}"
                )
            if not _compatible(value, declared[key]):
                raise ValueError(
                    f"{notebook.name}: parameter {key!r} must be {declared[key]}, "
                    f"profile {profile.get('name')!r} gives {type_name(value)} {value!r}"
                )


def check_inputs(params: dict[str, Any], *, notebook: str, root: str | Path) -> None:
    """Raise FileNotFoundError if a parameter named ``*_input`` (a path the notebook only reads) does not exist."""
    for key, value in params.items():
        if key.endswith("_input") and value and not (Path(root) / str(value)).exists():
            raise FileNotFoundError(f"{notebook}: parameter {key!r} points at {value}, which does not exist")


@dataclass(frozen=True)
class Series:
    """A checked profile and its notebooks, in the order to run them, with what each reads and writes.

    Attributes
    ----------
    profile : dict
        The loaded profile.
    notebooks : list of Path
        The notebooks, in run order (:func:`~celldino_utils.runner.declarations.series_order`).
    accesses : dict of str to Access
        What each notebook reads and writes with the profile's parameters and its defaults.
    declared_inputs : int
        How many external inputs the profile's ``sources`` declares (all present).
    """

    profile: dict[str, Any]
    notebooks: list[Path]
    accesses: dict[str, Access]
    declared_inputs: int

    def parameters(self, stem: str) -> dict[str, Any]:
        """The parameters the profile gives notebook ``stem``."""
        return self.profile["notebooks"][stem] or {}


def series_accesses(profile: dict[str, Any], notebooks: list[Path], root: Path) -> dict[str, Access]:
    """What each notebook reads and writes, after checking that the declarations cover its parameters."""
    declarations = load_declarations(root)
    stems = [nb.stem for nb in notebooks]
    unknown = sorted(set(declarations) - set(stems))
    missing = [stem for stem in stems if stem not in declarations]
    if unknown or missing:
        raise ValueError(f"{DECLARATIONS}: entries for {unknown} that are not notebooks; none for {missing}")
    accesses, problems = {}, []
    for notebook in notebooks:
        params = {**notebook_defaults(notebook), **(profile["notebooks"][notebook.stem] or {})}
        declaration = declarations[notebook.stem]
        declared = notebook_parameters(notebook)
        problems += [f"{notebook.stem}: {p}" for p in undeclared_parameters(declaration, params, declared, root=root)]
        accesses[notebook.stem] = resolve_access(declaration, params, profile, root=root)
    if problems:
        raise ValueError("\n".join([f"{DECLARATIONS} does not cover profile {profile.get('name')!r}:", *problems]))
    return accesses


def check_series(profile_name: str, *, root: str | Path) -> Series:
    """Load and check a profile as the runner does before its first notebook, executing nothing.

    Raises
    ------
    ValueError
        If a parameter does not match a notebook's, the declarations miss a notebook or a parameter naming a path
        or a model, or no order runs each notebook after what it reads;
        :class:`~celldino_utils.runner.inputs.MissingInputs` listing every input of the profile's ``sources`` that
        is missing or declared wrongly.
    """
    root = Path(root).resolve()
    profile = load_profile(profile_name, root=root)
    notebooks = series_notebooks(root)
    validate_profile(profile, notebooks)
    accesses = series_accesses(profile, notebooks, root)
    order = series_order([nb.stem for nb in notebooks], accesses)
    by_stem = {nb.stem: nb for nb in notebooks}
    declared = require_inputs(profile, profile_name, root=root)
    return Series(profile, [by_stem[stem] for stem in order], accesses, declared)
