"""The adoption guide's steps that need no trained model: the released models' table, a skipped released step,
and the bag-of-channels model's training overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from celldino_utils.chapters.guide import boc_overrides, embed_with_released, released_table


def test_the_released_models_table_says_which_fit_the_data() -> None:
    table = released_table("cellpainting")
    assert list(table.columns)[4] == "fits 5 channels" and "cell_dino_cp_vits8" in set(table["name"])


def test_a_released_model_without_weights_is_skipped_with_where_to_request_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELLDINO_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("CELLDINO_DATA_ROOT", str(tmp_path))
    text = embed_with_released(
        "cell_dino_cp_vits8", weights="", format="cellpainting", data="data/cp", read_options={}, out_dir="guide"
    )
    command, skipped = text.splitlines()
    assert command.startswith("celldino embed --model cell_dino_cp_vits8 --weights <weights file>")
    assert skipped.startswith("Skipped: no weights file of cell_dino_cp_vits8; request them at ")
    assert not (tmp_path / "guide").exists()


def test_the_bag_of_channels_model_trains_one_short_epoch_of_small_crops() -> None:
    options = boc_overrides(
        steps=40, batch_size=16, img_size=32, data="/d/hpa", format="hpa-kaggle", out_dir="/o/boc", seed=1
    )
    assert {"student.channel_mode=boc", "optim.epochs=1", "train.epoch_length=40"} <= set(options)
    assert {"crops.global_crops_size=32", "crops.local_crops_size=16", "train.out_dir=/o/boc"} <= set(options)
