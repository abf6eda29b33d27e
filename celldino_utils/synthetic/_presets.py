"""Named presets of the generators' config dataclasses, with overrides checked against the fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

ConfigT = TypeVar("ConfigT")


def config_from_preset(
    config_type: type[ConfigT],
    presets: Mapping[str, Mapping[str, Any]],
    name: str,
    overrides: Mapping[str, Any],
    *,
    kind: str,
) -> ConfigT:
    """``config_type`` built from preset ``name`` of ``presets`` with ``overrides`` (field=value) applied.

    Raises
    ------
    ValueError
        Naming the unknown preset (with the known ones, as ``kind`` presets) or the unknown fields.
    """
    if name not in presets:
        raise ValueError(f"unknown {kind} preset {name!r}; choose one of {sorted(presets)}")
    known = {f.name for f in dataclasses.fields(config_type)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown {config_type.__name__} fields {unknown}; known: {sorted(known)}")
    return config_type(**(dict(presets[name]) | dict(overrides)))
