"""The scale at which images are embedded, said in one line: the factor applied to each size of field.

By default a model sees images at its training scale: fields resized so that their shorter side is the
``field_px`` of its training fields, single cells cut in pixels of that scale. :func:`scale_note` says what
an embedding does to the fields of a data set, one size class (shorter side) at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from celldino_utils.io.crops import native_crop_side


def scale_note(
    sides: Sequence[int],
    *,
    n_fields: int,
    level: str,
    field_px: int | None,
    native_size: bool,
    resize_size: int | None,
    crop_size: int,
) -> str:
    """One line saying at which scale the fields (``level="fov"``) or cells (``level="cell"``) are embedded.

    Parameters
    ----------
    sides
        Shorter sides (pixels) of the fields looked at: all ``n_fields`` of the data set, or a sample of them.
    n_fields
        Fields in the data set.
    field_px
        The model's training scale (shorter side of its training fields), or None when unknown.
    native_size, resize_size, crop_size
        As given to :func:`celldino_utils.embed.embed_data`.

    Returns
    -------
    str
        E.g. ``fields brought to the training scale (shorter side 128 px): 2048 px x0.0625 (3 fields), ...``.
    """
    classes = sorted(Counter(int(s) for s in sides).items())
    sampled = f" (sizes of {len(sides)} of {n_fields} fields)" if len(sides) < n_fields else ""
    scale = None if native_size else field_px
    if level == "fov":
        return _fields_note(classes, field_px=field_px, scale=scale, resize_size=resize_size) + sampled
    if scale is None:
        note = f"cells cut as {crop_size} px crops of native pixels{_why_native(field_px)}"
    else:
        parts = []
        for side, count in classes:
            native = native_crop_side(crop_size, field_side=side, field_px=scale)
            parts.append(f"{native} native px in {side} px fields x{crop_size / native:.4g} ({_fields(count)})")
        note = f"cells cut at the training scale (fields of {scale} px), {crop_size} px crops: " + ", ".join(parts)
    if resize_size:
        note += f"; then resized to {resize_size} px (resize_size)"
    return note + sampled


def _fields_note(
    classes: list[tuple[int, int]], *, field_px: int | None, scale: int | None, resize_size: int | None
) -> str:
    """The fov line: the shorter side each class of fields is brought to, and why."""
    target = resize_size if resize_size is not None else scale
    if not target:
        sizes = ", ".join(f"{side} px ({_fields(count)})" for side, count in classes)
        why = " (resize_size=0)" if resize_size == 0 else _why_native(field_px)
        return f"fields embedded at their native size{why}: {sizes}"
    head = (
        f"fields resized to a shorter side of {target} px (resize_size)"
        if resize_size is not None
        else f"fields brought to the training scale (shorter side {target} px)"
    )
    sizes = ", ".join(
        f"{side} px {'as they are' if side == target else f'x{target / side:.4g}'} ({_fields(count)})"
        for side, count in classes
    )
    return f"{head}: {sizes}"


def _why_native(field_px: int | None) -> str:
    """Why images keep their native size: no training scale is known, or native size was asked for."""
    if field_px is None:
        return " (the model does not record its training scale, field_px)"
    return f" (native_size; the model's training scale is {field_px} px)"


def _fields(count: int) -> str:
    return f"{count} field{'s' * (count != 1)}"
