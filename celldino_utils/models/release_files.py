"""Where a released model's weights file is, and whether it is the right file: release names and hash suffixes.

The weights come under their release names, with torch.hub's hash suffix: ``<stem>-<hex>.pth``, where ``<hex>``
is the start (8 to 64 digits) of the file's SHA-256, e.g. ``cell_dino_vits8_pretrain_cp-37d20e9c.pth``; DINOv2's
have none (``dinov2_vitl14_pretrain.pth``). A registry entry's file is looked up in the ``released/`` folder of
the checkpoints folder under each of its release stems, with or without a hash suffix, and under ``<name>.pth``
(:func:`find_in_folder`); two files there named for one entry are an error naming both. Before a file is loaded
its hash suffix, if any, is checked against its SHA-256, and a file named as another entry's release is refused:
the two HPA ViT-L/16 checkpoints have tensors of the same shapes, and only their names tell them apart.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from celldino_utils.config.paths import project_root
from celldino_utils.io.stamps import file_sha256
from celldino_utils.models.released import RELEASED_MODELS, ReleasedModel, get_released_model

#: Environment variable of the checkpoints folder; released weights are looked up in its ``released/`` folder.
CHECKPOINTS_ENV = "CELLDINO_CHECKPOINTS"
DATA_ROOT_ENV = "CELLDINO_DATA_ROOT"
RELEASED_FOLDER = "released"
WEIGHTS_SUFFIX = ".pth"
#: torch.hub's hash suffix: ``-`` and the first (8 or more) hex digits of the file's SHA-256, before ``.pth``.
HASH_SUFFIX = re.compile(r"-(?P<prefix>[0-9a-f]{8,64})\.pth$")


def released_folder(*, root: str | Path | None = None) -> Path:
    """The folder released weights are looked up in: ``released/`` in ``$CELLDINO_CHECKPOINTS``, else in
    ``$CELLDINO_DATA_ROOT/checkpoints``, else in ``data/checkpoints`` (the folders the profiles put checkpoints in);
    relative folders are taken under ``root``, by default the project root, as profile paths are."""
    if os.environ.get(CHECKPOINTS_ENV):
        base = Path(os.environ[CHECKPOINTS_ENV]).expanduser()
    elif os.environ.get(DATA_ROOT_ENV):
        base = Path(os.environ[DATA_ROOT_ENV]).expanduser() / "checkpoints"
    else:
        base = Path("data") / "checkpoints"
    if not base.is_absolute():
        base = (project_root() if root is None else Path(root)) / base
    return base / RELEASED_FOLDER


def file_stem(file_name: str) -> str:
    """A weights file's name without ``.pth`` and without a hash suffix."""
    match = HASH_SUFFIX.search(file_name)
    return file_name[: match.start()] if match else file_name.removesuffix(WEIGHTS_SUFFIX)


def names_model(model: ReleasedModel, file_name: str) -> bool:
    """Whether ``file_name`` is a name ``model``'s weights are found under: ``<name>.pth``, or a release stem of it
    with ``.pth`` (and optionally a hash suffix)."""
    return file_name.endswith(WEIGHTS_SUFFIX) and file_stem(file_name) in (model.name, *model.release_stems)


def release_names_text(model: ReleasedModel) -> str:
    """The names ``model``'s weights are found under, as one phrase (the release names flagged when unconfirmed)."""
    released = " or ".join(f"{stem}[-<sha256 prefix>]{WEIGHTS_SUFFIX}" for stem in model.release_stems)
    if not released:
        return f"{model.name}{WEIGHTS_SUFFIX}"
    flag = "" if model.stems_confirmed else " (release name unconfirmed)"
    return f"{model.name}{WEIGHTS_SUFFIX}, or as released: {released}{flag}"


def find_in_folder(model: ReleasedModel, folder: Path) -> Path | None:
    """The one file of ``folder`` named for ``model`` (:func:`names_model`), or None.

    Raises
    ------
    ValueError
        When two or more files are named for it, naming each.
    """
    if not folder.is_dir():
        return None
    found = sorted(path for path in folder.iterdir() if path.is_file() and names_model(model, path.name))
    if len(found) > 1:
        names = ", ".join(path.name for path in found)
        raise ValueError(
            f"weights of {model.name}: {len(found)} files in {folder} are named for it ({names}); keep one there, "
            "or pass the one to use as the weights file"
        )
    return found[0] if found else None


def default_weights_path(model: ReleasedModel, *, root: str | Path | None = None) -> Path:
    """Where the weights of ``model`` are when no path is given: the file of :func:`released_folder` named for it
    (:func:`find_in_folder`), else ``<name>.pth`` there, where to save it. A model card's weights are where it says.
    """
    if model.weights_file:
        return Path(model.weights_file)
    folder = released_folder(root=root)
    return find_in_folder(model, folder) or folder / f"{model.name}{WEIGHTS_SUFFIX}"


def find_released_weights(
    name: str | Path, weights: str | Path | None = None, *, root: str | Path | None = None
) -> Path | None:
    """The weights file of released model ``name``: ``weights`` (which must exist and not be named as another
    model's release), else the default path (under ``root``, see :func:`default_weights_path`) if a file is
    there, else None (nothing to embed with). The hash is checked when the file is loaded, not here."""
    model = get_released_model(name)
    if weights is not None:
        return _named_for(model, _existing(model, Path(weights).expanduser()))
    path = default_weights_path(model, root=root)
    return path if path.is_file() else None


def released_weights_file(model: ReleasedModel, *, weights: str | Path | None = None) -> Path:
    """The local weights file of ``model``, checked: ``weights``, else :func:`default_weights_path`.

    Raises
    ------
    FileNotFoundError
        Naming the model, the path looked at, and where the weights are requested.
    ValueError
        For a file named as another model's release, or whose hash suffix is not the start of its SHA-256
        (:func:`check_hash_suffix`).
    """
    path = _existing(model, Path(weights).expanduser() if weights is not None else default_weights_path(model))
    check_hash_suffix(_named_for(model, path))
    return path


def check_hash_suffix(path: Path) -> None:
    """Check a torch.hub hash suffix in ``path``'s name against the start of the file's SHA-256.

    Raises
    ------
    ValueError
        Naming the file, the hash prefix its name gives and the one its bytes give.
    """
    match = HASH_SUFFIX.search(path.name)
    if match is None:
        return
    expected = match["prefix"]
    actual = file_sha256(path)[: len(expected)]
    if actual != expected:
        raise ValueError(
            f"{path}: the hash suffix of its name expects SHA-256 {expected}..., the file's is {actual}...: "
            "the file is not the one released under this name (an interrupted or altered download?)"
        )


def _existing(model: ReleasedModel, path: Path) -> Path:
    """``path`` if it is a file; else a FileNotFoundError naming where the weights are requested."""
    if path.is_file():
        return path
    if model.weights_file or path != default_weights_path(model):
        where = str(path)
    else:
        where = f"{path.parent} under {release_names_text(model)}"
    raise FileNotFoundError(
        f"weights of {model.name} not found at {where}; request them at {model.source} ({model.licence}) "
        f"and pass the file with --weights, or save it in {path.parent}"
    )


def _named_for(model: ReleasedModel, path: Path) -> Path:
    """``path``, unless its name is another registry entry's and not ``model``'s (a model card's file is its own)."""
    if model.weights_file or names_model(model, path.name):
        return path
    others = [other.name for other in RELEASED_MODELS.values() if names_model(other, path.name)]
    if others:
        raise ValueError(
            f"{path}: named as the weights of {others[0]}, not of {model.name}; give {model.name}'s own file "
            f"({release_names_text(model)})"
        )
    return path


def released_models_table(*, n_channels: int | None = None) -> pd.DataFrame:
    """One row per released model: architecture, channels in order, training crop and field sizes (``field px``:
    the training scale, None where the release does not give it), training data, the names its weights are found
    under, the weights file (the one found, else where to save it) and source.

    With ``n_channels``, a column ``fits <n> channels`` says which models embed such images as they are
    (a bag-of-channels model fits any count).
    """
    rows = []
    for model in RELEASED_MODELS.values():
        row = {
            "name": model.name,
            "architecture": f"{model.arch}/{model.patch_size}" + (" bag of channels" * (model.channel_mode == "boc")),
            "builder": model.hub_builder,
            "channels": model.channels_text,
            "crop px": model.img_size,
            "field px": model.field_px,
        }
        if n_channels is not None:
            row[f"fits {n_channels} channels"] = model.channel_mode == "boc" or model.in_chans == n_channels
        path = default_weights_path(model)
        row |= {
            "trained on": model.training_data,
            "file names": release_names_text(model),
            "weights file": str(path),
            "found": path.is_file(),
            "source": model.source,
            "licence": model.licence,
        }
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.astype({"field px": "Int64"})
