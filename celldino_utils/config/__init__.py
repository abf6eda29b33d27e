"""Configuration: YAML loading and merging, run profiles, project paths, seeding, and device selection.

Bottom layer (with ``io``): imports no other part of the package.
"""

from celldino_utils.config.load import CONFIG_NAME, load_config, save_config
from celldino_utils.config.paths import project_root, resolve_path
from celldino_utils.config.profiles import load_profile

# Devices and seeding import torch; they load on first use so that configs, profiles and paths (the runner's
# check) stay light.
_TORCH_NAMES = frozenset({"select_device", "set_seed"})


def __getattr__(name: str) -> object:
    if name in _TORCH_NAMES:
        from celldino_utils.config import device

        return getattr(device, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONFIG_NAME",
    "load_config",
    "load_profile",
    "project_root",
    "resolve_path",
    "save_config",
    "select_device",
    "set_seed",
]
