"""Generate a profile's synthetic data sets once, and again only when their settings or the generator code change.

Each generated folder holds ``synthetic.json`` (the kind, the settings and a fingerprint of the
generator code that made it). A folder without that stamp is never overwritten: it may hold real data.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from celldino_utils.io.stamps import files_sha256
from celldino_utils.synthetic.cellpainting import cellpainting_preset, generate_cellpainting
from celldino_utils.synthetic.hpa import generate_hpa, hpa_preset
from celldino_utils.synthetic.photographs import generate_photographs, photographs_preset

STAMP = "synthetic.json"

_GENERATORS = {
    "hpa": (hpa_preset, generate_hpa),
    "cellpainting": (cellpainting_preset, generate_cellpainting),
    "photographs": (photographs_preset, generate_photographs),
}

# Profile path key of each kind of synthetic data set.
PATH_KEYS = {"hpa": "hpa_data", "cellpainting": "cellpainting_data", "photographs": "photographs_data"}


def generator_fingerprint() -> str:
    """Short hash of the generators' source code: data made by other code are made again."""
    folder = Path(__file__).parent
    return files_sha256(sorted(folder.glob("*.py")), base=folder)[:16]


def ensure_synthetic(kind: str, out_dir: str | Path, settings: dict[str, Any], *, force: bool = False) -> Path:
    """Generate synthetic data set ``kind`` into ``out_dir`` unless the same settings and generator code made it.

    Parameters
    ----------
    kind
        ``"hpa"``, ``"cellpainting"`` or ``"photographs"`` (the installed sample photographs, as tiles).
    settings
        ``preset`` (a preset name) plus any generator fields to override.

    Raises
    ------
    FileExistsError
        If ``out_dir`` holds files that this module did not generate.

    Notes
    -----
    Data are written to ``<out_dir>.partial`` and moved into place once complete, so an
    interrupted generation never leaves a half-written data set behind.
    """
    if kind not in _GENERATORS:
        raise ValueError(f"unknown synthetic data kind {kind!r}; choose one of {sorted(_GENERATORS)}")
    settings = dict(settings)
    preset = settings.pop("preset", "default")
    make_config, generate = _GENERATORS[kind]
    config = make_config(preset, **settings)
    record = {"kind": kind, "preset": preset, "config": asdict(config), "generator": generator_fingerprint()}
    out_dir = Path(out_dir)
    stamp = out_dir / STAMP
    if out_dir.exists() and any(out_dir.iterdir()):
        if not stamp.exists():
            raise FileExistsError(
                f"{out_dir} holds files that were not generated here ({STAMP} missing); not overwriting"
            )
        if not force and json.loads(stamp.read_text()) == json.loads(json.dumps(record)):
            return out_dir
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    generate(partial, config)
    (partial / STAMP).write_text(json.dumps(record, indent=2) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    partial.rename(out_dir)
    return out_dir


def generate_profile_data(profile: dict[str, Any], *, root: str | Path, force: bool = False) -> dict[str, Path]:
    """Make every synthetic data set a profile declares (``synthetic.<kind>``) at its ``paths.<kind>_data``."""
    made = {}
    for kind, settings in (profile.get("synthetic") or {}).items():
        key = PATH_KEYS.get(kind)
        if key is None:
            raise ValueError(f"profile {profile.get('name')!r}: unknown synthetic data kind {kind!r}")
        if key not in (profile.get("paths") or {}):
            raise ValueError(f"profile {profile.get('name')!r}: synthetic.{kind} needs paths.{key}")
        made[kind] = ensure_synthetic(kind, Path(root) / profile["paths"][key], settings or {}, force=force)
    return made
