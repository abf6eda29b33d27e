"""The paper's released models by name: Cell-DINO, channel-adaptive DINO (bag of channels) and DINOv2.

Each :class:`ReleasedModel` says everything needed to rebuild the official backbone (dinov2
``DinoVisionTransformer``: layer scale, MLP feed-forward, no register tokens, position embeddings
resampled with ``interpolate_offset=0.1`` and no antialiasing) and where its weights come from.
Weights are never downloaded: :func:`load_released_model` reads a local file with
``torch.load(weights_only=True)`` and fills every parameter from it, strictly.

A backbone in the official key format that the registry does not hold (one of your own, or a small one for
tests) is described by a YAML *model card*: ``like`` (a registry name whose entry it starts from), the fields it
changes, and ``weights`` (its file, relative to the card). A card's path is accepted wherever a name is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import torch
import yaml

from celldino_utils.config.paths import project_root
from celldino_utils.io.channels import HPA_FOV
from celldino_utils.models.backbone import ViTBackbone, build_backbone

#: Environment variable of the checkpoints folder; released weights are looked up in its ``released/`` folder.
CHECKPOINTS_ENV = "CELLDINO_CHECKPOINTS"
DATA_ROOT_ENV = "CELLDINO_DATA_ROOT"
CELL_DINO_FORM = "https://ai.meta.com/resources/models-and-libraries/cell-dino-downloads/"
CELL_DINO_LICENCE = "FAIR Noncommercial Research License (weights); code CC BY-NC"
DINOV2_LICENCE = "Apache License 2.0"

#: Suffixes of a model card's file.
MODEL_CARD_SUFFIXES = (".yaml", ".yml")
_CARD_KEYS = ("like", "weights")
_CHUNKED_BLOCK = re.compile(r"^blocks\.\d+\.(\d+)\.")


@dataclass(frozen=True)
class ReleasedModel:
    """A released backbone: architecture, channels, training input and where its weights are requested.

    Attributes
    ----------
    name : str
        Registry name (the dinov2 hub builder's name).
    arch : str
        ``vit_small``, ``vit_base`` or ``vit_large``.
    patch_size, img_size : int
        Patch side and training crop side in pixels (the size of its position-embedding grid).
    in_chans : int
        Channels of the patch embedding (1 for a bag-of-channels model, which takes any count).
    channel_mode : str
        ``all`` or ``boc`` (bag of channels: each channel a view, class tokens concatenated).
    channels : tuple of str
        Channel names in the order the model expects them (empty for a bag-of-channels model).
    training_data : str
        What the model was trained on, and at which scale.
    source, licence, file_name : str
        Where the weights are requested or published, their licence, and the file name looked up
        in the ``released/`` folder of the checkpoints folder when no path is given.
    pos_embed_offset : float
        dinov2 ``interpolate_offset``: the grid is resampled by the factor ``(n + offset) / M``.
    field_px : int or None
        The training scale: the shorter side in pixels of the fields the model's crops were taken from,
        as the release states it. Embedding brings fields to it and cuts single cells in its pixels by
        default (:func:`celldino_utils.embed.embed_data`). 512 for the HPA ViT-L/16: its field-of-view
        checkpoint was trained on HPA-FoV, one 512 px image per field (its single-cell checkpoint, under
        the same name, on crops whose source scale the release does not give). None where the release
        does not say: then images are embedded at their native size.
    """

    name: str
    arch: str
    patch_size: int
    img_size: int
    in_chans: int
    channel_mode: str
    channels: tuple[str, ...]
    training_data: str
    source: str
    licence: str
    file_name: str
    pos_embed_offset: float = 0.1
    field_px: int | None = None

    @property
    def channels_text(self) -> str:
        """The channel order as one phrase."""
        return ", ".join(self.channels) if self.channels else "any number, one per view"


_HPA_CHANNELS = HPA_FOV.channels
#: The Cell Painting model's input order: DeepProfiler's, as its preprocessing was (the Cell Painting reader
#: stacks the same stains in another order; embedding maps them by name).
_DEEPPROFILER_CHANNELS = ("DNA", "RNA", "ER", "AGP", "Mito")
RELEASED_MODELS: dict[str, ReleasedModel] = {
    model.name: model
    for model in (
        ReleasedModel(
            "cell_dino_hpa_vitl16", "vit_large", 16, 224, 4, "all", _HPA_CHANNELS,
            "HPA: one checkpoint trained on single cells, one on 512 px fields (HPA-FoV); 224 px crops",
            CELL_DINO_FORM, CELL_DINO_LICENCE, "cell_dino_hpa_vitl16.pth", field_px=512,
        ),
        ReleasedModel(
            "cell_dino_hpa_vitl14", "vit_large", 14, 518, 4, "all", _HPA_CHANNELS,
            "HPA fields of view at a higher resolution (HPA-FoV); 518 px crops",
            CELL_DINO_FORM, CELL_DINO_LICENCE, "cell_dino_hpa_vitl14.pth",
        ),
        ReleasedModel(
            "cell_dino_cp_vits8", "vit_small", 8, 128, 5, "all", _DEEPPROFILER_CHANNELS,
            "Cell Painting single cells (the combined Cell Painting data set); 128 px crops",
            CELL_DINO_FORM, CELL_DINO_LICENCE, "cell_dino_cp_vits8.pth",
        ),
        ReleasedModel(
            "channel_adaptive_dino_vitl16", "vit_large", 16, 224, 1, "boc", (),
            "Extended CHAMMI (five cell microscopy data sets of varied channel counts), one channel per view; "
            "224 px crops",
            CELL_DINO_FORM, CELL_DINO_LICENCE, "channel_adaptive_dino_vitl16.pth",
        ),
        ReleasedModel(
            "dinov2_vits14", "vit_small", 14, 518, 3, "all", ("red", "green", "blue"),
            "natural images (LVD-142M), distilled from ViT-g/14; the Cell-DINO+ initialisation",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_pretrain.pth",
            DINOV2_LICENCE, "dinov2_vits14_pretrain.pth",
        ),
        ReleasedModel(
            "dinov2_vitb14", "vit_base", 14, 518, 3, "all", ("red", "green", "blue"),
            "natural images (LVD-142M), distilled from ViT-g/14",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth",
            DINOV2_LICENCE, "dinov2_vitb14_pretrain.pth",
        ),
        ReleasedModel(
            "dinov2_vitl14", "vit_large", 14, 518, 3, "all", ("red", "green", "blue"),
            "natural images (LVD-142M), distilled from ViT-g/14; the Cell-DINO+ initialisation at paper scale",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_pretrain.pth",
            DINOV2_LICENCE, "dinov2_vitl14_pretrain.pth",
        ),
    )
}  # fmt: skip


def get_released_model(name: str | Path) -> ReleasedModel:
    """The registry entry called ``name``, or the entry a model card file describes (:func:`read_model_card`).

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if is_model_card(name):
        return read_model_card(name)
    if str(name) not in RELEASED_MODELS:
        raise ValueError(
            f"unknown released model {str(name)!r}; choose one of {sorted(RELEASED_MODELS)}, "
            f"or give the path of a model card ({'/'.join(MODEL_CARD_SUFFIXES)})"
        )
    return RELEASED_MODELS[str(name)]


def is_released_model(name: str | Path) -> bool:
    """Whether ``name`` is a registry name or an existing model card (rather than a checkpoint of our training)."""
    return str(name) in RELEASED_MODELS or is_model_card(name)


def is_model_card(path: str | Path) -> bool:
    """Whether ``path`` is an existing file with a model card's suffix."""
    return Path(path).suffix in MODEL_CARD_SUFFIXES and Path(path).is_file()


def read_model_card(path: str | Path) -> ReleasedModel:
    """The :class:`ReleasedModel` a model card describes: its ``like`` entry with the card's fields changed.

    Parameters
    ----------
    path
        A YAML mapping with ``like`` (a registry name), ``weights`` (the weights file, relative to the card)
        and any :class:`ReleasedModel` field to change (``name``, ``arch``, ``patch_size``, ``img_size``,
        ``field_px``, ``training_data``...).

    Raises
    ------
    ValueError
        Naming the card and the key at fault: a missing ``like`` or ``weights``, an unknown ``like`` or key.
    """
    card = yaml.safe_load(Path(path).read_text())
    if not isinstance(card, dict):
        raise ValueError(f"{path}: a model card is a mapping, got {type(card).__name__}")
    missing = [key for key in _CARD_KEYS if key not in card]
    if missing:
        raise ValueError(f"{path}: model card lacks {missing}")
    if card["like"] not in RELEASED_MODELS:
        known = sorted(RELEASED_MODELS)
        raise ValueError(f"{path}: 'like: {card['like']}' is not a released model; choose one of {known}")
    fields = set(ReleasedModel.__dataclass_fields__) - {"file_name"}
    unknown = sorted(set(card) - fields - set(_CARD_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown model card key(s) {unknown}; allowed: {sorted(fields | set(_CARD_KEYS))}")
    changes = {key: value for key, value in card.items() if key in fields}
    if "channels" in changes:
        changes["channels"] = tuple(changes["channels"])
    weights = (Path(path).parent / str(card["weights"])).resolve()
    base = RELEASED_MODELS[card["like"]]
    return replace(base, **{"name": Path(path).stem, "source": str(path), **changes, "file_name": str(weights)})


def default_weights_path(model: ReleasedModel, *, root: str | Path | None = None) -> Path:
    """Where the weights of ``model`` are looked up when no path is given.

    ``released/<file_name>`` in ``$CELLDINO_CHECKPOINTS``, else in ``$CELLDINO_DATA_ROOT/checkpoints``, else in
    ``data/checkpoints`` (the folders the profiles put checkpoints in); relative folders are taken under
    ``root``, by default the project root, as profile paths are. A model card's weights are where it says.
    """
    if Path(model.file_name).is_absolute():
        return Path(model.file_name)
    if os.environ.get(CHECKPOINTS_ENV):
        base = Path(os.environ[CHECKPOINTS_ENV]).expanduser()
    elif os.environ.get(DATA_ROOT_ENV):
        base = Path(os.environ[DATA_ROOT_ENV]).expanduser() / "checkpoints"
    else:
        base = Path("data") / "checkpoints"
    if not base.is_absolute():
        base = (project_root() if root is None else Path(root)) / base
    return base / "released" / model.file_name


def find_released_weights(
    name: str | Path, weights: str | Path | None = None, *, root: str | Path | None = None
) -> Path | None:
    """The weights file of released model ``name``: ``weights`` (which must exist), else the default path (under
    ``root``, see :func:`default_weights_path`) if a file is there, else None (nothing to embed with)."""
    model = get_released_model(name)
    if weights is not None:
        return released_weights_file(model, weights=weights)
    path = default_weights_path(model, root=root)
    return path if path.is_file() else None


def released_weights_file(model: ReleasedModel, *, weights: str | Path | None = None) -> Path:
    """The local weights file of ``model``: ``weights``, else :func:`default_weights_path`; it must exist.

    Raises
    ------
    FileNotFoundError
        Naming the model, the path looked at, and where the weights are requested.
    """
    path = Path(weights).expanduser() if weights is not None else default_weights_path(model)
    if not path.is_file():
        raise FileNotFoundError(
            f"weights of {model.name} not found at {path}; request them at {model.source} ({model.licence}) "
            f"and pass the file with --weights, or save it as {default_weights_path(model)}"
        )
    return path


def released_models_table(*, n_channels: int | None = None) -> pd.DataFrame:
    """One row per released model: architecture, channels in order, training crop and field sizes (``field px``:
    the training scale, None where the release does not give it), training data, weights file and source.

    With ``n_channels``, a column ``fits <n> channels`` says which models embed such images as they are
    (a bag-of-channels model fits any count).
    """
    rows = []
    for model in RELEASED_MODELS.values():
        row = {
            "name": model.name,
            "architecture": f"{model.arch}/{model.patch_size}" + (" bag of channels" * (model.channel_mode == "boc")),
            "channels": model.channels_text,
            "crop px": model.img_size,
            "field px": model.field_px,
        }
        if n_channels is not None:
            row[f"fits {n_channels} channels"] = model.channel_mode == "boc" or model.in_chans == n_channels
        row |= {
            "trained on": model.training_data,
            "weights file": str(default_weights_path(model)),
            "found": default_weights_path(model).is_file(),
            "source": model.source,
            "licence": model.licence,
        }
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.astype({"field px": "Int64"})


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
        A name of :data:`RELEASED_MODELS` (``celldino models`` lists them), or an entry.
    weights
        The local weights file (a plain ``state_dict`` as released, block chunks allowed); by default
        :func:`default_weights_path`.

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
        Naming the first key that the model lacks, that the file lacks, or whose shape differs (both shapes).
    """
    model = name if isinstance(name, ReleasedModel) else get_released_model(name)
    path = released_weights_file(model, weights=weights)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping):
        raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
    backbone = build_released_backbone(model)
    backbone.load_state_dict(strict_released_state(state, backbone, source=f"{path} ({model.name})"))
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
