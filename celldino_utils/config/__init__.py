"""Configuration: YAML loading and merging, seeding, and device selection.

Bottom layer (with ``io``): imports no other part of the package.
"""

from celldino_utils.config.device import select_device
from celldino_utils.config.load import load_config, save_config, set_seed
from celldino_utils.config.paths import project_root, resolve_path
from celldino_utils.config.profiles import load_profile

__all__ = ["load_config", "load_profile", "project_root", "resolve_path", "save_config", "select_device", "set_seed"]
