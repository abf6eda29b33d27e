"""Load backbone weights from a local checkpoint: ours, official dinov2 and Cell-DINO (initialisation).

Foreign weights go through two pure ``state_dict -> state_dict`` steps, as timm's
``checkpoint_filter_fn``: :func:`extract_backbone_state` finds the (teacher) backbone and
gives it timm/dinov2 key names; :func:`adapt_backbone_state` fits it to a model, resampling
the position embedding to the model's patch grid (``resample_abs_pos_embed``) and adapting
the patch embedding to its channel count (``adapt_input_conv``: DINOv2 RGB weights into a 4- or
5-channel model, or summed into a 1-channel bag-of-channels model).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from timm.layers import resample_abs_pos_embed
from timm.models import adapt_input_conv

from celldino_utils.models.backbone import ViTBackbone
from celldino_utils.models.release_files import released_weights_file
from celldino_utils.models.released import get_released_model, is_released_model

_CONTAINERS = ("model", "state_dict", "teacher")
BRANCHES: tuple[str, ...] = ("teacher", "student")
_CHUNKED_BLOCK = re.compile(r"^blocks\.\d+\.(\d+)\.")
_OPTIONAL_KEYS = frozenset({"mask_token"})


def extract_backbone_state(checkpoint: Mapping[str, object], *, branch: str = "teacher") -> dict[str, torch.Tensor]:
    """The backbone tensors of a checkpoint, with timm/dinov2 key names (``blocks.0.attn.qkv.weight``...).

    Handles our checkpoints (``model`` -> ``teacher.backbone.vit.*``), dinov2/Cell-DINO training
    checkpoints (``model`` -> ``teacher.backbone.*``, also wrapped in ``module.``), dinov2 teacher
    exports (``teacher`` -> ``backbone.*``), hub-style bare backbones, and dinov2 chunked blocks
    (``blocks.<chunk>.<i>.*``). Heads are dropped.

    Parameters
    ----------
    checkpoint
        What ``torch.load`` returned.
    branch
        ``teacher`` (what the paper embeds with) or ``student``, for checkpoints that hold both;
        the other branch is used when only it is present.

    Returns
    -------
    dict
        A new ``{name: tensor}`` dict; the input is not modified.
    """
    state = _unwrap(checkpoint)
    state = {_strip(key, "module."): value for key, value in state.items()}
    if branch not in BRANCHES:
        raise ValueError(f"branch: unknown branch {branch!r}; choose one of {list(BRANCHES)}")
    for prefix in (f"{branch}.", *(f"{other}." for other in BRANCHES if other != branch)):
        if any(key.startswith(prefix) for key in state):
            state = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
            break
    if any(key.startswith("backbone.") for key in state):
        state = {key[len("backbone.") :]: value for key, value in state.items() if key.startswith("backbone.")}
    state = {_strip(key, "vit."): value for key, value in state.items()}
    return {_CHUNKED_BLOCK.sub(r"blocks.\1.", key): value for key, value in state.items()}


def adapt_backbone_state(
    state: Mapping[str, torch.Tensor], model: ViTBackbone, *, source: str = "checkpoint"
) -> dict[str, torch.Tensor]:
    """Fit a timm/dinov2-named backbone state to ``model``; return a state dict with the model's keys.

    Parameters
    ----------
    state
        Output of :func:`extract_backbone_state`.
    model
        The backbone that will receive the weights (only its shapes are read).
    source
        Name of the checkpoint, used in error messages.

    Returns
    -------
    dict
        ``{model key: tensor}``; ``mask_token`` is left out when the checkpoint has none.

    Raises
    ------
    ValueError
        Naming the key, on a shape that cannot be adapted (embedding width, patch size), on keys
        the model lacks (e.g. register tokens, SwiGLU) or on model keys the checkpoint lacks.
    """
    targets = {_strip(key, "vit."): (key, value.shape) for key, value in model.state_dict().items()}
    unexpected = sorted(set(state) - set(targets))
    if unexpected:
        raise ValueError(f"{source}: keys {unexpected[:5]} have no counterpart in the {type(model).__name__} model")
    missing = sorted(set(targets) - set(state) - _OPTIONAL_KEYS)
    if missing:
        raise ValueError(f"{source}: keys {missing[:5]} of the model are missing from the checkpoint")
    adapted = {}
    for name, value in state.items():
        key, shape = targets[name]
        if name == "pos_embed" and value.shape != shape:
            value = _resample_pos_embed(value, model, source=source)
        elif name == "patch_embed.proj.weight" and value.ndim == 4 and value.shape[1] != shape[1]:
            value = adapt_input_conv(shape[1], value, base_chans=value.shape[1])
        if value.shape != shape:
            raise ValueError(f"{source}: key {name!r} has shape {tuple(value.shape)}, the model expects {tuple(shape)}")
        adapted[key] = value
    return adapted


def load_backbone_weights(model: ViTBackbone, path: str | Path, *, branch: str = "teacher") -> ViTBackbone:
    """Load a local checkpoint's backbone into ``model`` (in place), adapting shapes, and return the model.

    The file is read with ``torch.load(..., weights_only=True)``; nothing is downloaded. This is how
    training starts from other weights (``student.init``); to embed with a released model as released,
    use :func:`celldino_utils.models.load_released_model`, which loads strictly.

    Parameters
    ----------
    model
        A backbone from :func:`celldino_utils.models.build_backbone`.
    path
        Our checkpoint, a dinov2/Cell-DINO training checkpoint or teacher export, a bare backbone state dict,
        or the name of a released model (``dinov2_vits14``...), read from its default weights path.
    branch
        ``teacher`` or ``student``, for checkpoints that hold both.
    """
    if is_released_model(path):
        path = released_weights_file(get_released_model(str(path)))
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"{path}: expected a state dict, got {type(checkpoint).__name__}")
    state = adapt_backbone_state(extract_backbone_state(checkpoint, branch=branch), model, source=str(path))
    model.load_state_dict(state, strict=False)
    return model


def _unwrap(checkpoint: Mapping[str, object]) -> dict[str, torch.Tensor]:
    """Descend into ``model`` / ``state_dict`` / ``teacher`` containers until the mapping holds tensors."""
    state: Mapping[str, object] = checkpoint
    while True:
        container = next((k for k in _CONTAINERS if isinstance(state.get(k), Mapping)), None)
        if container is None:
            break
        inner = state[container]
        state = {f"teacher.{k}": v for k, v in inner.items()} if container == "teacher" else inner
    tensors = {key: value for key, value in state.items() if isinstance(value, torch.Tensor)}
    if not tensors:
        raise ValueError(f"checkpoint holds no tensors (top-level keys {sorted(checkpoint)[:5]})")
    return tensors


def _strip(key: str, prefix: str) -> str:
    return key[len(prefix) :] if key.startswith(prefix) else key


def _resample_pos_embed(pos_embed: torch.Tensor, model: ViTBackbone, *, source: str) -> torch.Tensor:
    """Resample ``(1, P + h*w, D)`` position embeddings to the model's patch grid (bicubic, timm)."""
    n_patches = pos_embed.shape[1] - model.num_prefix_tokens
    side = math.isqrt(max(n_patches, 0))
    if pos_embed.ndim != 3 or side * side != n_patches:
        raise ValueError(f"{source}: key 'pos_embed' of shape {tuple(pos_embed.shape)} is not a square patch grid")
    return resample_abs_pos_embed(
        pos_embed,
        new_size=list(model.vit.patch_embed.grid_size),
        old_size=[side, side],
        num_prefix_tokens=model.num_prefix_tokens,
    )
