"""Run profiles: one YAML per profile (``configs/profiles/<name>.yaml``) holding every notebook's parameters.

A profile has ``paths`` (data, checkpoints, outputs; environment variables may
override them through ``${oc.env:...}``), ``synthetic`` (generator settings),
``notebooks`` (parameters by notebook stem) and, optionally, ``sources``: the
external inputs the profile needs, which nothing in the companion makes or downloads.
A profile may name a ``base`` profile and hold only what differs from it (``tiny`` is
``default`` with tiny data and short runs): its keys are merged onto the base's before
interpolations are resolved. The runner validates a profile against the notebooks' ``parameters`` cells and
checks its ``sources`` before anything runs (:mod:`celldino_utils.runner.profile_check`; ``celldino run --check``
does only that). Nothing here imports torch: the check reads YAML and looks at files.

``sources`` maps a short name to an entry with either a ``path`` (a file, or a folder
that must not be empty; ``${paths.*}`` allowed, relative paths under the project
root) or a released ``model`` (a name ``celldino models`` lists, with an optional
``weights`` file, by default the one ``celldino models`` shows: the file of ``released/`` in the
checkpoints folder named for the model, by its name or its release name), plus
``what`` (one line) and ``source`` (where to get it: a ``data/README.md`` section
title, an accession, a Kaggle competition; for a model it defaults to the
registry's request address and licence)::

    sources:
      hpa_2021:
        path: ${paths.data_root}/hpa_kaggle_2021
        what: HPA single-cell competition images, train.csv and cell masks
        source: data/README.md, "Human Protein Atlas, Kaggle 2021"
      cell_dino_hpa_fov:
        model: cell_dino_hpa_vitl16_fov
        what: the released Cell-DINO HPA ViT-L/16 weights, HPA-FoV checkpoint

Notebook parameters may refer to an entry, e.g. ``hpa_data: ${sources.hpa_2021.path}``; ``models`` (optional)
names the models once, for the notebooks and sources to refer to (``hpa_checkpoint: ${models.hpa_fov}``).
Profiles whose data are generated (``default``, ``tiny``) declare no sources.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

PROFILE_KEYS = (
    "name",
    "description",
    "seed",
    "parallel_notebooks",
    "paths",
    "models",
    "synthetic",
    "notebooks",
    "sources",
)
#: A profile may name another as its ``base``: its own keys are merged onto the base's, which holds the rest.
BASE_KEY = "base"
#: Environment variables the profiles read their folders from; set but empty they would put data at ``/``.
PATH_VARIABLES = ("CELLDINO_DATA_ROOT", "CELLDINO_CHECKPOINTS")


def profiles_dir(root: str | Path) -> Path:
    """Folder of the profile YAML files of a project checkout."""
    return Path(root) / "configs" / "profiles"


def available_profiles(root: str | Path) -> list[str]:
    """Names of the profiles shipped in ``configs/profiles``."""
    return sorted(p.stem for p in profiles_dir(root).glob("*.yaml"))


def load_profile(name: str, *, root: str | Path) -> dict[str, Any]:
    """Load and resolve profile ``name`` into plain Python containers.

    Raises
    ------
    ValueError
        If the profile is unknown, holds keys other than ``PROFILE_KEYS`` or a ``notebooks`` or ``sources``
        section that is not a mapping, a ``parallel_notebooks`` that is not a whole number from 1, or a variable of
        ``PATH_VARIABLES`` is set but empty.
    """
    path = profiles_dir(root) / f"{name}.yaml"
    empty = [variable for variable in PATH_VARIABLES if variable in os.environ and not os.environ[variable].strip()]
    if empty:
        raise ValueError(f"{empty[0]} is set but empty; unset it or set it to a folder")
    profile = OmegaConf.to_container(_merged(name, root=root), resolve=True)
    unknown = sorted(set(profile) - set(PROFILE_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown}; allowed: {list(PROFILE_KEYS)}")
    if not isinstance(profile.get("notebooks"), dict):
        raise ValueError(f"{path}: 'notebooks' must map notebook names to their parameters")
    jobs = profile.get("parallel_notebooks", 1)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"{path}: parallel_notebooks must be a whole number from 1, got {jobs!r}")
    if not isinstance(profile.get("sources") or {}, dict):
        raise ValueError(f"{path}: 'sources' must map input names to their path or model, what and source")
    return profile


def _merged(name: str, *, root: str | Path, children: tuple[str, ...] = ()) -> DictConfig:
    """Profile ``name`` merged onto its ``base`` profile (recursively), interpolations not yet resolved."""
    path = profiles_dir(root) / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"unknown profile {name!r}; available: {available_profiles(root)}")
    config = OmegaConf.load(path)
    base = config.pop(BASE_KEY, None)
    if base is None:
        return config
    if base == name or base in children:
        raise ValueError(f"{path}: base profiles form a cycle: {' -> '.join([*children, name, str(base)])}")
    return OmegaConf.merge(_merged(str(base), root=root, children=(*children, name)), config)
