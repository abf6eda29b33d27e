"""Build a released model by name and fill it, strictly, from its local weights file.

A file is checked before its tensors go into the model: its name and hash suffix
(:func:`celldino_utils.models.release_files.released_weights_file`), then its architecture, read from the
tensors' shapes (patch size, channels, depth, width): a file that holds another architecture is refused naming
the registry models it does fit, before any image is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

from celldino_utils.models.backbone import ViTBackbone, build_backbone
from celldino_utils.models.release_files import released_weights_file
from celldino_utils.models.released import RELEASED_MODELS, ReleasedModel, get_released_model

_CHUNKED_BLOCK = re.compile(r"^blocks\.\d+\.(\d+)\.")
_BLOCK = re.compile(r"^blocks\.(\d+)\.")
_PATCH_WEIGHT = "patch_embed.proj.weight"


@dataclass(frozen=True)
class Architecture:
    """What a backbone's tensors say of its architecture.

    Attributes
    ----------
    patch_size, in_chans, depth, width : int
        Patch side in pixels, channels of the patch embedding, number of blocks and embedding width.
    """

    patch_size: int
    in_chans: int
    depth: int
    width: int

    def __str__(self) -> str:
        return (
            f"a ViT of width {self.width} and depth {self.depth} with {self.patch_size} px patches over "
            f"{self.in_chans} channel{'s' * (self.in_chans != 1)}"
        )


def state_architecture(state: Mapping[str, torch.Tensor]) -> Architecture | None:
    """The :class:`Architecture` of a state dict in the official (or our) key names; None without a patch embedding.

    Parameters
    ----------
    state
        dinov2 key names, blocks chunked (``blocks.<chunk>.<i>.*``) or not, optionally under ``vit.``.
    """
    names = {_CHUNKED_BLOCK.sub(r"blocks.\1.", _strip_vit(key)): value for key, value in state.items()}
    patch = names.get(_PATCH_WEIGHT)
    if patch is None or patch.ndim != 4:
        return None
    depth = len({match[1] for key in names if (match := _BLOCK.match(key))})
    width, in_chans, _, patch_size = patch.shape
    return Architecture(patch_size=patch_size, in_chans=in_chans, depth=depth, width=width)


@cache
def released_architecture(model: ReleasedModel) -> Architecture | None:
    """The :class:`Architecture` of ``model``, from its backbone built on the meta device (no memory, no init)."""
    with torch.device("meta"):
        backbone = build_released_backbone(model)
    return state_architecture(backbone.state_dict())


def check_architecture(state: Mapping[str, torch.Tensor], model: ReleasedModel, *, source: str) -> None:
    """Refuse a state dict that holds another architecture than ``model``'s, naming the registry models it fits.

    Raises
    ------
    ValueError
        Naming ``source``, both architectures, and the models of :data:`RELEASED_MODELS` the file fits (or that
        none does).
    """
    found, expected = state_architecture(state), released_architecture(model)
    if found is None or found == expected:
        return
    fits = [other.name for other in RELEASED_MODELS.values() if released_architecture(other) == found]
    hint = f"it fits {' or '.join(fits)}" if fits else "no released model fits it (describe it with a model card)"
    raise ValueError(f"{source}: the file holds {found}; {model.name} is {expected}: {hint}")


def build_released_backbone(model: ReleasedModel) -> ViTBackbone:
    """The architecture of ``model`` at random init, with the official position-embedding resampling."""
    backbone = build_backbone(
        model.arch,
        in_chans=model.in_chans,
        img_size=model.img_size,
        patch_size=model.patch_size,
        channel_mode=model.channel_mode,
        layerscale=1.0,
    )
    backbone.pos_embed_offset = model.pos_embed_offset
    return backbone


def load_released_model(name: str | ReleasedModel, *, weights: str | Path | None = None) -> ViTBackbone:
    """Build a released model by name and fill it from a local weights file; frozen, in eval mode.

    Parameters
    ----------
    name
        A name of :data:`RELEASED_MODELS` (``celldino models`` lists them), a model card, or an entry.
    weights
        The local weights file (a plain ``state_dict`` as released, block chunks allowed); by default
        :func:`celldino_utils.models.release_files.default_weights_path`, the file of the ``released/`` folder
        named for the model.

    Returns
    -------
    ViTBackbone
        ``forward(images (B, C, H, W))`` gives the class token after the final norm, ``(B, D)``, or
        ``(B, C * D)`` for a bag-of-channels model, at any size that is a multiple of the patch size.

    Raises
    ------
    FileNotFoundError
        When the weights file is missing: names the model and where its weights are requested.
    ValueError
        For a file named as another model's release or whose hash suffix does not match its bytes; a file
        of another architecture (naming the models it fits); else naming the first key that the model lacks,
        that the file lacks, or whose shape differs (both shapes).
    """
    model = name if isinstance(name, ReleasedModel) else get_released_model(name)
    path = released_weights_file(model, weights=weights)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping):
        raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
    source = f"{path} ({model.name})"
    check_architecture(state, model, source=source)
    backbone = build_released_backbone(model)
    backbone.load_state_dict(strict_released_state(state, backbone, source=source))
    backbone.requires_grad_(False)
    return backbone.eval()


def strict_released_state(
    state: Mapping[str, torch.Tensor], backbone: ViTBackbone, *, source: str
) -> dict[str, torch.Tensor]:
    """Rename a released ``state_dict`` to ``backbone``'s keys, checking that every key and shape agrees.

    Parameters
    ----------
    state
        dinov2 key names, blocks chunked (``blocks.<chunk>.<i>.*``) or not (``blocks.<i>.*``).
    backbone
        The model to fill (only its state's names and shapes are read).
    source
        Names the file in error messages.

    Returns
    -------
    dict
        ``{backbone key: tensor}`` covering every key of the backbone.
    """
    targets = {_strip_vit(key): (key, tuple(value.shape)) for key, value in backbone.state_dict().items()}
    renamed = {_CHUNKED_BLOCK.sub(r"blocks.\1.", key): (key, value) for key, value in state.items()}
    unexpected = [original for name, (original, _) in renamed.items() if name not in targets]
    if unexpected:
        raise ValueError(f"{source}: key {unexpected[0]!r} has no counterpart in the model{_others(unexpected)}")
    mismatched = [
        (original, tuple(value.shape), targets[name][1])
        for name, (original, value) in renamed.items()
        if tuple(value.shape) != targets[name][1]
    ]
    if mismatched:
        key, got, expected = mismatched[0]
        others = _others([m[0] for m in mismatched])
        raise ValueError(f"{source}: key {key!r} has shape {got}, the model expects {expected}{others}")
    missing = [name for name in targets if name not in renamed]
    if missing:
        raise ValueError(f"{source}: key {missing[0]!r} of the model is missing from the file{_others(missing)}")
    return {targets[name][0]: value for name, (_, value) in renamed.items()}


def _others(keys: list[str]) -> str:
    """`` (and N more: 'a', 'b', ...)`` for the keys after the first, or nothing."""
    if len(keys) < 2:
        return ""
    shown = ", ".join(repr(k) for k in keys[1:4])
    return f" (and {len(keys) - 1} more: {shown}{', ...' if len(keys) > 4 else ''})"


def _strip_vit(key: str) -> str:
    return key.removeprefix("vit.")
