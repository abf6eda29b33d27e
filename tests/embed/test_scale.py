"""The line that says at which scale a data set is embedded: one factor per size of field, and why."""

from __future__ import annotations

from celldino_utils.embed.scale import scale_note

MIXED = [2048, 3072, 2048, 128]
OPTIONS = {"n_fields": 4, "crop_size": 48, "native_size": False, "resize_size": None}


def test_fields_are_brought_to_the_training_scale_class_by_class() -> None:
    note = scale_note(MIXED, level="fov", field_px=128, **OPTIONS)
    assert note == (
        "fields brought to the training scale (shorter side 128 px): 128 px as they are (1 field), "
        "2048 px x0.0625 (2 fields), 3072 px x0.04167 (1 field)"
    )


def test_native_size_and_an_unknown_scale_say_why_fields_keep_their_pixels() -> None:
    asked = scale_note(MIXED, level="fov", field_px=128, **OPTIONS | {"native_size": True})
    assert asked.startswith("fields embedded at their native size (native_size; the model's training scale is 128 px)")
    unknown = scale_note(MIXED, level="fov", field_px=None, **OPTIONS)
    assert unknown == (
        "fields embedded at their native size (the model does not record its training scale, field_px): "
        "128 px (1 field), 2048 px (2 fields), 3072 px (1 field)"
    )
    none = scale_note(MIXED, level="fov", field_px=128, **OPTIONS | {"resize_size": 0})
    assert none.startswith("fields embedded at their native size (resize_size=0): 128 px (1 field)")


def test_an_explicit_resize_size_wins_over_the_training_scale() -> None:
    note = scale_note([2048, 512], level="fov", field_px=128, **OPTIONS | {"n_fields": 10, "resize_size": 512})
    assert note == (
        "fields resized to a shorter side of 512 px (resize_size): 512 px as they are (1 field), "
        "2048 px x0.25 (1 field) (sizes of 2 of 10 fields)"
    )


def test_cells_are_cut_in_training_scale_pixels_per_size_of_field() -> None:
    note = scale_note(MIXED, level="cell", field_px=128, **OPTIONS | {"resize_size": 224})
    assert note == (
        "cells cut at the training scale (fields of 128 px), 48 px crops: 48 native px in 128 px fields x1 (1 field), "
        "768 native px in 2048 px fields x0.0625 (2 fields), 1152 native px in 3072 px fields x0.04167 (1 field); "
        "then resized to 224 px (resize_size)"
    )
    native = scale_note(MIXED, level="cell", field_px=None, **OPTIONS)
    assert native == (
        "cells cut as 48 px crops of native pixels (the model does not record its training scale, field_px)"
    )
