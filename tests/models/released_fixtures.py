"""The parity fixtures of the official Cell-DINO backbone and the rule that remakes their weights and inputs.

``tests/fixtures/official_cell_dino_outputs.json`` holds, for released architectures and small ones, the key
names and shapes of the official ``state_dict`` and the class token and mean patch token the official code
computed at the native size and at another one. Weights and inputs are drawn from fixed seeds.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import torch

from celldino_utils.models import RELEASED_MODELS, ReleasedModel

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "official_cell_dino_outputs.json"
_UNIT_KEYS = ("norm1.weight", "norm2.weight", "norm.weight", "ls1.gamma", "ls2.gamma")


@cache
def parity_cases() -> dict[str, dict[str, Any]]:
    """The fixture's cases by name."""
    return {case["name"]: case for case in json.loads(FIXTURE.read_text())["cases"]}


def official_weights(case: dict[str, Any], *, seed: int = 1000) -> dict[str, torch.Tensor]:
    """The case's ``state_dict``: key ``i`` (sorted order) drawn from seed ``seed + i``; norms and gammas near 1.

    The fixture's outputs were computed with the default ``seed``; another gives other weights of the same shapes.
    """
    state = {}
    for i, (key, shape) in enumerate(case["state_dict_keys"]):
        draw = torch.randn(shape, generator=torch.Generator().manual_seed(seed + i))
        state[key] = 1 + 0.1 * draw if key.endswith(_UNIT_KEYS) else 0.02 * draw
    return state


def official_inputs(case: dict[str, Any], size: int) -> torch.Tensor:
    """The case's two input images ``(2, C, size, size)``."""
    return torch.randn(2, case["input_channels"], size, size, generator=torch.Generator().manual_seed(7))


def case_model(case: dict[str, Any]) -> ReleasedModel:
    """The (first) registry entry a released architecture's official builder builds, or an entry built from the
    case for the small ones."""
    built = [model for model in RELEASED_MODELS.values() if model.hub_builder == case["name"]]
    if built:
        return built[0]
    return ReleasedModel(
        name=case["name"],
        arch=case["arch"],
        patch_size=case["patch_size"],
        img_size=case["img_size"],
        in_chans=case["in_chans"],
        channel_mode="boc" if case["channel_adaptive"] else "all",
        channels=(),
        training_data="parity fixture",
        source="tests/fixtures",
        licence="none",
        release_stems=(),
    )


def save_official_weights(case: dict[str, Any], folder: Path, *, seed: int = 1000) -> Path:
    """Write the case's weights (:func:`official_weights`) as a released checkpoint is written (a plain
    ``state_dict``), to ``<folder>/<case name>.pth``."""
    path = folder / f"{case['name']}.pth"
    torch.save(official_weights(case, seed=seed), path)
    return path
