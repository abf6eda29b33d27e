"""The paper's released models by name: Cell-DINO, channel-adaptive DINO (bag of channels) and DINOv2.

One entry per released checkpoint: each :class:`ReleasedModel` says everything needed to rebuild the official
backbone (dinov2 ``DinoVisionTransformer``: layer scale, MLP feed-forward, no register tokens, position embeddings
resampled with ``interpolate_offset=0.1`` and no antialiasing), what it was trained on, and the names its weights
file is found under (:mod:`celldino_utils.models.release_files`). Two checkpoints may share one official builder:
the HPA ViT-L/16 is released as a single-cell and an HPA-FoV checkpoint, ``cell_dino_hpa_vitl16_cells`` and
``cell_dino_hpa_vitl16_fov`` here; the builder's own name is retired (:data:`RETIRED_NAMES`).
Weights are never downloaded: :func:`celldino_utils.models.load_released_model` reads a local file with
``torch.load(weights_only=True)`` and fills every parameter from it, strictly.

A backbone in the official key format that the registry does not hold (one of your own, or a small one for
tests) is described by a YAML *model card*: ``like`` (a registry name whose entry it starts from), the fields it
changes, and ``weights`` (its file, relative to the card). A card's path is accepted wherever a name is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from celldino_utils.io.channels import HPA_FOV

CELL_DINO_FORM = "https://ai.meta.com/resources/models-and-libraries/cell-dino-downloads/"
CELL_DINO_LICENCE = "FAIR Noncommercial Research License (weights); code CC BY-NC"
DINOV2_LICENCE = "Apache License 2.0"

#: Suffixes of a model card's file.
MODEL_CARD_SUFFIXES = (".yaml", ".yml")
_CARD_KEYS = ("like", "weights")


@dataclass(frozen=True)
class ReleasedModel:
    """A released backbone: architecture, channels, training input and where its weights are requested.

    Attributes
    ----------
    name : str
        Registry name: the dinov2 hub builder's name, or where one builder serves two checkpoints, the builder's
        name and which checkpoint (``cell_dino_hpa_vitl16_cells``).
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
    source, licence : str
        Where the weights are requested or published, and their licence.
    release_stems : tuple of str
        The weights file's names as released, without ``.pth`` and without torch.hub's hash suffix
        (``cell_dino_vits8_pretrain_cp`` for ``cell_dino_vits8_pretrain_cp-37d20e9c.pth``). The file is looked up
        in the ``released/`` folder under these names and under ``<name>.pth``.
    builder : str
        The official hub builder (the architecture's name) when it is not ``name``.
    stems_confirmed : bool
        False where the release names are not known for certain: they follow the release's pattern, and a file
        under another name is found once saved as ``<name>.pth``.
    weights_file : str
        A model card's weights file (absolute); empty for a registry entry, whose file is looked up by name.
    pos_embed_offset : float
        dinov2 ``interpolate_offset``: the grid is resampled by the factor ``(n + offset) / M``.
    field_px : int or None
        The training scale: the shorter side in pixels of the fields the model's crops were taken from,
        as the release states it. Embedding brings fields to it and cuts single cells in its pixels by
        default (:func:`celldino_utils.embed.embed_data`). 512 for the HPA-FoV ViT-L/16, trained on one
        512 px image per field. 512 also for the single-cell ViT-L/16, whose release does not give the scale
        of the fields its crops were cut from: the HPA-FoV scale is assumed, so that a single-cell crop size
        means the same pixels for both. None where the release does not say: then images are embedded at
        their native size.
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
    release_stems: tuple[str, ...]
    builder: str = ""
    stems_confirmed: bool = True
    weights_file: str = ""
    pos_embed_offset: float = 0.1
    field_px: int | None = None

    @property
    def channels_text(self) -> str:
        """The channel order as one phrase."""
        return ", ".join(self.channels) if self.channels else "any number, one per view"

    @property
    def hub_builder(self) -> str:
        """The official hub builder that builds this model's architecture."""
        return self.builder or self.name


_HPA_CHANNELS = HPA_FOV.channels
#: The Cell Painting model's input order: DeepProfiler's, as its preprocessing was (the Cell Painting reader
#: stacks the same stains in another order; embedding maps them by name).
_DEEPPROFILER_CHANNELS = ("DNA", "RNA", "ER", "AGP", "Mito")
RELEASED_MODELS: dict[str, ReleasedModel] = {
    model.name: model
    for model in (
        ReleasedModel(
            "cell_dino_hpa_vitl16_cells", "vit_large", 16, 224, 4, "all", _HPA_CHANNELS,
            "HPA single cells: masked single-cell crops of HPA fields ('HPAone'); 224 px crops. "
            "Tables A and B, Figure D",
            CELL_DINO_FORM, CELL_DINO_LICENCE, ("cell_dino_vitl16_pretrain_hpa_sc",),
            builder="cell_dino_hpa_vitl16", stems_confirmed=False, field_px=512,
        ),
        ReleasedModel(
            "cell_dino_hpa_vitl16_fov", "vit_large", 16, 224, 4, "all", _HPA_CHANNELS,
            "HPA fields of view (HPA-FoV, one 512 px image per field); 224 px crops. Table C, Figures A-C",
            CELL_DINO_FORM, CELL_DINO_LICENCE, ("cell_dino_vitl16_pretrain_hpa_fov",),
            builder="cell_dino_hpa_vitl16", stems_confirmed=False, field_px=512,
        ),
        ReleasedModel(
            "cell_dino_hpa_vitl14", "vit_large", 14, 518, 4, "all", _HPA_CHANNELS,
            "HPA fields of view at a higher resolution (HPA-FoV); 518 px crops",
            CELL_DINO_FORM, CELL_DINO_LICENCE, ("cell_dino_vitl14_pretrain_hpa_fov_highres",), stems_confirmed=False,
        ),
        ReleasedModel(
            "cell_dino_cp_vits8", "vit_small", 8, 128, 5, "all", _DEEPPROFILER_CHANNELS,
            "Cell Painting single cells (the combined Cell Painting data set); 128 px crops",
            CELL_DINO_FORM, CELL_DINO_LICENCE, ("cell_dino_vits8_pretrain_cp",),
        ),
        ReleasedModel(
            "channel_adaptive_dino_vitl16", "vit_large", 16, 224, 1, "boc", (),
            "Extended CHAMMI (five cell microscopy data sets of varied channel counts), one channel per view; "
            "224 px crops",
            CELL_DINO_FORM, CELL_DINO_LICENCE, ("channel_adaptive_dino_vitl16_pretrain_cells",),
        ),
        ReleasedModel(
            "dinov2_vits14", "vit_small", 14, 518, 3, "all", ("red", "green", "blue"),
            "natural images (LVD-142M), distilled from ViT-g/14; the Cell-DINO+ initialisation",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_pretrain.pth",
            DINOV2_LICENCE, ("dinov2_vits14_pretrain",),
        ),
        ReleasedModel(
            "dinov2_vitb14", "vit_base", 14, 518, 3, "all", ("red", "green", "blue"),
            "natural images (LVD-142M), distilled from ViT-g/14",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth",
            DINOV2_LICENCE, ("dinov2_vitb14_pretrain",),
        ),
        ReleasedModel(
            "dinov2_vitl14", "vit_large", 14, 518, 3, "all", ("red", "green", "blue"),
            "natural images (LVD-142M), distilled from ViT-g/14; the Cell-DINO+ initialisation at paper scale",
            "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_pretrain.pth",
            DINOV2_LICENCE, ("dinov2_vitl14_pretrain",),
        ),
    )
}  # fmt: skip

#: Names that no longer name one checkpoint, with what to name instead.
RETIRED_NAMES: dict[str, str] = {
    "cell_dino_hpa_vitl16": (
        "the official builder of two released checkpoints, no longer a name here; name the checkpoint: "
        "cell_dino_hpa_vitl16_cells (HPA single cells: Tables A, B and Figure D) or cell_dino_hpa_vitl16_fov "
        "(HPA-FoV fields: Table C and Figures A-C)"
    ),
}


def get_released_model(name: str | Path) -> ReleasedModel:
    """The registry entry called ``name``, or the entry a model card file describes (:func:`read_model_card`).

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones; for a retired name, saying which to name instead.
    """
    if is_model_card(name):
        return read_model_card(name)
    if str(name) in RETIRED_NAMES:
        raise ValueError(f"released model {str(name)!r} is {RETIRED_NAMES[str(name)]}")
    if str(name) not in RELEASED_MODELS:
        raise ValueError(
            f"unknown released model {str(name)!r}; choose one of {sorted(RELEASED_MODELS)}, "
            f"or give the path of a model card ({'/'.join(MODEL_CARD_SUFFIXES)})"
        )
    return RELEASED_MODELS[str(name)]


def is_released_model(name: str | Path) -> bool:
    """Whether ``name`` is a registry name or an existing model card (rather than a checkpoint of our training).

    A retired name counts, so that using it meets :func:`get_released_model`'s message naming what replaces it.
    """
    return str(name) in RELEASED_MODELS or str(name) in RETIRED_NAMES or is_model_card(name)


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
    if card["like"] in RETIRED_NAMES:
        raise ValueError(f"{path}: 'like: {card['like']}' is {RETIRED_NAMES[card['like']]}")
    if card["like"] not in RELEASED_MODELS:
        known = sorted(RELEASED_MODELS)
        raise ValueError(f"{path}: 'like: {card['like']}' is not a released model; choose one of {known}")
    fields = set(ReleasedModel.__dataclass_fields__) - {"weights_file", "release_stems", "builder", "stems_confirmed"}
    unknown = sorted(set(card) - fields - set(_CARD_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown model card key(s) {unknown}; allowed: {sorted(fields | set(_CARD_KEYS))}")
    changes = {key: value for key, value in card.items() if key in fields}
    if "channels" in changes:
        changes["channels"] = tuple(changes["channels"])
    weights = (Path(path).parent / str(card["weights"])).resolve()
    base = RELEASED_MODELS[card["like"]]
    card_fields = {"name": Path(path).stem, "source": str(path), **changes}
    return replace(base, **card_fields, release_stems=(), weights_file=str(weights))
