"""The driver of chapter 31: the example plate written, its channels checked against models, its cells embedded."""

from __future__ import annotations

from pathlib import Path

import pytest

from celldino_utils.chapters import channel_fit, embed_plate, embed_plate_released, plate_channels, write_example_plate
from celldino_utils.synthetic.images import PLATE_CHANNELS

from ..embed.test_pipeline import our_checkpoint

MAP = {"nucleus": "Hoechst 33342", "microtubules": "Phalloidin", "er": "MitoTracker"}


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    folder = tmp_path_factory.mktemp("plate")
    fields = write_example_plate(folder, fields_per_well=1, cells_per_field=3, seed=0)
    return folder, int(fields["n_cells"].sum())


def test_a_bag_of_channels_takes_the_plate_and_a_fixed_model_is_refused_naming_what_it_lacks(plate, tmp_path) -> None:
    folder, _ = plate
    assert plate_channels(folder, read_options={}) == PLATE_CHANNELS
    boc = our_checkpoint(tmp_path / "boc", in_chans=4, channel_mode="boc", field_px=32)
    assert channel_fit(folder, boc, read_options={}) == f"takes {', '.join(PLATE_CHANNELS)}"
    hpa = our_checkpoint(tmp_path / "hpa", in_chans=4, field_px=32)  # records the hpa-kaggle channels
    mapped = channel_fit(folder, hpa, read_options={"channel_map": MAP})
    assert mapped.startswith("refused:") and mapped.endswith("missing ['protein']")


def test_the_cells_are_embedded_at_native_size_into_anndata(plate, tmp_path) -> None:
    folder, n_cells = plate
    boc = our_checkpoint(tmp_path / "boc", in_chans=4, channel_mode="boc", field_px=32)
    cells = embed_plate(folder, boc, out=tmp_path / "cells.h5ad", crop_size=32, read_options={}, seed=0)
    assert len(cells) == n_cells and set(cells["Metadata_treatment"]) == {"control", "treated"}
    assert cells.attrs["provenance"]["transform"]["native_size"] is True
    assert cells.filter(like="emb_").shape[1] == 3 * 192


def test_a_released_model_without_weights_is_skipped_saying_where_to_get_them(plate, tmp_path, monkeypatch) -> None:
    folder, _ = plate
    monkeypatch.setenv("CELLDINO_CHECKPOINTS", str(tmp_path / "checkpoints"))  # no weights at the default path
    line = embed_plate_released(
        folder, "channel_adaptive_dino_vitl16", weights=None, out=tmp_path / "x.h5ad", crop_size=32,
        read_options={}, seed=0,
    )  # fmt: skip
    assert line.startswith("channel_adaptive_dino_vitl16: skipped, no weights file; request them at http")
    assert not (tmp_path / "x.h5ad").exists()
