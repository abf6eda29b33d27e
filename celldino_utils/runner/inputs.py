"""The check of a profile's external inputs (its ``sources``) before a run: paths, and released models' weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celldino_utils.config.sources import MissingInput, Source, missing_sources
from celldino_utils.models import (
    MODEL_CARD_SUFFIXES,
    RELEASED_MODELS,
    default_weights_path,
    find_released_weights,
    get_released_model,
    is_released_model,
    release_names_text,
    released_folder,
)
from celldino_utils.runner.declarations import resolve_key


class MissingInputs(ValueError):
    """Inputs of a profile are missing or declared wrongly; the message lists them, one per line.

    Attributes
    ----------
    missing : list of MissingInput
        The inputs at fault, in the profile's order.
    """

    def __init__(self, profile_name: str, missing: list[MissingInput], declared: int) -> None:
        self.missing = missing
        head = f"profile {profile_name!r}: {len(missing)} of its {declared} inputs missing or declared wrongly"
        super().__init__("\n".join([f"{head}; no notebook was executed", *map(str, missing)]))


def missing_model(source: Source, *, root: str | Path) -> MissingInput | None:
    """Why the released model an entry names cannot be loaded, or None when its weights file is there.

    An explicit ``weights`` path is taken relative to ``root``, as the notebooks see it; without one, the line
    names the folder and the file names looked up there (the model's name and its release names). Without a
    ``source``, it says where the registry says the weights are requested, and their licence.
    """
    reference = resolve_key(source.model, root) if Path(source.model).suffix in MODEL_CARD_SUFFIXES else source.model
    if not is_released_model(reference):
        return MissingInput.invalid(
            source.name, f"unknown model {source.model!r}; known: {sorted(RELEASED_MODELS)}, or a model card's path"
        )
    weights = resolve_key(source.weights, root) if source.weights else None
    try:
        model = get_released_model(reference)
        found = find_released_weights(reference, weights, root=root)
    except FileNotFoundError:  # an explicit weights file that is not there
        found = None
    except ValueError as error:  # a retired name, two files named for the model, a file named for another
        return MissingInput.invalid(source.name, str(error))
    if found is not None:
        return None
    if weights is None and not model.weights_file:
        where = f"model {model.name}, weights file in {released_folder(root=root)}: {release_names_text(model)}"
    else:
        where = f"model {model.name}, weights file {weights or default_weights_path(model, root=root)}"
    return MissingInput.missing(source.name, where, source.what, source.source or f"{model.source} ({model.licence})")


def require_inputs(profile: dict[str, Any], profile_name: str, *, root: str | Path) -> int:
    """Check that every input the profile declares in ``sources`` is there.

    Returns
    -------
    int
        How many inputs the profile declares (all present).

    Raises
    ------
    MissingInputs
        Listing each missing or wrongly declared input with where to get it.
    """
    missing = missing_sources(profile, root=root, check_model=lambda source: missing_model(source, root=root))
    declared = len(profile.get("sources") or {})
    if missing:
        raise MissingInputs(profile_name, missing, declared)
    return declared
