"""Channels by name: the data's named channels reach a model in the order it takes them, whatever the files' order.

The fixtures are Cell Painting sites as an Opera Phenix export and CellProfiler's ``load_data.csv`` give them: one
16-bit TIFF per stain named by the instrument, and ``FileName_Orig<stain>`` / ``PathName_Orig<stain>`` columns that
alone say which file is which stain.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch

from celldino_utils.augment import self_normalize
from celldino_utils.embed import embed_data, feed_order, load_embedding_model
from celldino_utils.io import CELLPAINTING, HPA_KAGGLE, LAYOUTS, open_fields, read_profiles, read_provenance
from celldino_utils.io import datasets as datasets_module
from celldino_utils.models import RELEASED_MODELS, TokenFeatures, load_released_model

from ..layouts import phenix_name
from ..models.released_fixtures import official_weights, parity_cases
from .test_pipeline import our_checkpoint

DEEPPROFILER = ("DNA", "RNA", "ER", "AGP", "Mito")
SIDE = 24
#: Two ways one field may be stored: the order of the load_data columns, and the Phenix channel of each stain.
STORAGES = {
    "columns DNA..Mito, Phenix ch5..ch1": (("DNA", "ER", "RNA", "AGP", "Mito"), {"DNA": 5, "ER": 4, "RNA": 3}),
    "columns Mito..DNA, Phenix ch1..ch5": (("Mito", "AGP", "RNA", "ER", "DNA"), {"DNA": 1, "ER": 2, "RNA": 3}),
    "columns RNA first, ER and RNA swapped": (("RNA", "Mito", "DNA", "AGP", "ER"), {"DNA": 2, "ER": 3, "RNA": 4}),
}


def _planes() -> dict[str, np.ndarray]:
    """One distinct 16-bit plane per stain, the same for every storage."""
    rng = np.random.default_rng(5)
    return {stain: rng.integers(0, 65536, (SIDE, SIDE), dtype=np.uint16) for stain in CELLPAINTING.channels}


def write_site(folder: Path, *, columns: tuple[str, ...], numbers: dict[str, int]) -> Path:
    """One Phenix site (well C03, field 1) of :func:`_planes`, its load_data.csv columns in the order ``columns``
    and its stains in the Phenix channels ``numbers`` (AGP and Mito fill the two left), with two nuclei."""
    images = folder / "Images"
    images.mkdir(parents=True)
    numbers = dict(numbers)
    numbers |= dict(zip(("AGP", "Mito"), sorted(set(range(1, 6)) - set(numbers.values())), strict=True))
    row = {"Metadata_Plate": "SQ00015096", "Metadata_Well": "C03", "Metadata_Site": 1}
    for stain in columns:
        name = phenix_name(3, 3, 1, numbers[stain])
        tifffile.imwrite(images / name, _planes()[stain])
        row |= {f"FileName_Orig{stain}": name, f"PathName_Orig{stain}": "Images"}
    pd.DataFrame([row]).to_csv(folder / "load_data.csv", index=False)
    nuclei = [
        row | {"Metadata_ObjectNumber": k, "Nuclei_Location_Center_X": x, "Nuclei_Location_Center_Y": y}
        for k, (x, y) in enumerate([(8.0, 9.0), (15.0, 14.0)], start=1)
    ]
    pd.DataFrame(nuclei).to_csv(folder / "nuclei.csv", index=False)
    return folder


def cp_weights(folder: Path, *, only_input: int | None = None) -> Path:
    """The Cell Painting ViT-S/8's weights (parity rule); with ``only_input``, its patch embedding is zero for every
    input channel but that one, so the model reacts to that input alone."""
    state = official_weights(parity_cases()["cell_dino_cp_vits8"])
    if only_input is not None:
        kept = state["patch_embed.proj.weight"][:, only_input].clone()
        state["patch_embed.proj.weight"].zero_()
        state["patch_embed.proj.weight"][:, only_input] = kept
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cell_dino_cp_vits8.pth"
    torch.save(state, path)
    return path


def _embed(data: Path, out: Path, *, weights: Path, level: str = "fov") -> pd.DataFrame:
    options = {"level": level, "crop_size": 16, "progress": False, "device": "cpu"}
    return read_profiles(
        embed_data("cellpainting", data, checkpoint="cell_dino_cp_vits8", weights=weights, out=out, **options)
    )


@pytest.mark.parametrize("storage", list(STORAGES))
def test_the_cell_painting_model_receives_rna_second_whatever_the_column_order(storage: str, tmp_path: Path) -> None:
    columns, numbers = STORAGES[storage]
    data = write_site(tmp_path / "site", columns=columns, numbers=numbers)
    weights = cp_weights(tmp_path / "w", only_input=1)  # reacts to its second input only
    got = _embed(data, tmp_path / "fields.parquet", weights=weights).filter(like="emb_").to_numpy()
    model = TokenFeatures(load_released_model("cell_dino_cp_vits8", weights=weights))

    def fed_second(stain: str) -> np.ndarray:
        image = torch.zeros(1, 5, SIDE, SIDE)
        image[0, 1] = torch.from_numpy(_planes()[stain].astype(np.float32) / 65535)
        with torch.inference_mode():
            return model(self_normalize(image[0])[None]).numpy()

    np.testing.assert_allclose(got, fed_second("RNA"), atol=1e-5)
    assert np.abs(got - fed_second("ER")).max() > 1e-2, "the reader's second channel (ER) would give other features"
    provenance = read_provenance(tmp_path / "fields.parquet")
    assert provenance["model"] == "cell_dino_cp_vits8" and provenance["channels"] == list(DEEPPROFILER)
    assert provenance["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert provenance["weights"] == str(weights) and (provenance["format"], provenance["level"]) == (
        "cellpainting",
        "fov",
    )


@pytest.mark.parametrize("level", ["fov", "cell"])
def test_the_same_field_stored_in_another_order_gives_identical_embeddings(level: str, tmp_path: Path) -> None:
    weights = cp_weights(tmp_path / "w")
    runs = []
    for k, (columns, numbers) in enumerate(STORAGES.values()):
        data = write_site(tmp_path / f"site{k}", columns=columns, numbers=numbers)
        runs.append(_embed(data, tmp_path / f"{k}.parquet", weights=weights, level=level))
    assert len(runs[0]) == (1 if level == "fov" else 2)
    for other in runs[1:]:
        np.testing.assert_array_equal(other.filter(like="emb_").to_numpy(), runs[0].filter(like="emb_").to_numpy())


def test_the_datasets_stack_channels_in_the_order_asked_by_name(tmp_path: Path) -> None:
    data = write_site(tmp_path / "site", columns=CELLPAINTING.channels, numbers={"DNA": 5, "ER": 4, "RNA": 3})
    reader, model = open_fields("cellpainting", data), open_fields("cellpainting", data, channels=DEEPPROFILER)
    assert model.layout.channels == DEEPPROFILER and reader.layout.channels == CELLPAINTING.channels
    assert torch.equal(model[0], reader[0][[0, 2, 1, 3, 4]])
    hpa = HPA_KAGGLE.reordered(("protein", "nucleus", "er", "microtubules"))
    assert hpa.file_tags == ("green", "blue", "yellow", "red") and hpa.protein_index == 0
    with pytest.raises(ValueError, match=r"missing \['Actin'\], extra \['AGP'\]"):
        open_fields("cellpainting", data, channels=("DNA", "RNA", "ER", "Actin", "Mito"))


def test_a_model_taking_other_channels_is_refused_naming_them_before_any_image_is_read(
    tmp_path: Path, monkeypatch
) -> None:
    data = write_site(tmp_path / "site", columns=CELLPAINTING.channels, numbers={"DNA": 5, "ER": 4, "RNA": 3})
    card = tmp_path / "cp_actin.yaml"
    card.write_text("like: cell_dino_cp_vits8\nchannels: [DNA, RNA, ER, Actin, Mito]\nweights: w.pth\n")

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("an image was read before the channels were checked")

    monkeypatch.setattr(datasets_module, "stack_channels", no_reading)
    message = r"cp_actin.yaml \(takes DNA, RNA, ER, Actin, Mito\): channels \['DNA', 'ER', 'RNA', 'AGP', 'Mito'\] "
    with pytest.raises(ValueError, match=message + r".*missing \['Actin'\], extra \['AGP'\]"):
        embed_data("cellpainting", data, checkpoint=card, level="fov", out=tmp_path / "x.parquet", progress=False)
    assert not (tmp_path / "x.parquet").exists()


def test_a_bag_of_channels_takes_any_named_channels_and_records_them(tmp_path: Path) -> None:
    data = write_site(tmp_path / "site", columns=CELLPAINTING.channels, numbers={"DNA": 5, "ER": 4, "RNA": 3})
    boc = our_checkpoint(tmp_path / "boc", in_chans=4, channel_mode="boc", field_px=32)  # trained on HPA
    assert feed_order(boc, CELLPAINTING.channels) == CELLPAINTING.channels
    out = embed_data("cellpainting", data, checkpoint=boc, level="fov", out=tmp_path / "boc.parquet", progress=False)
    provenance = read_provenance(out)
    assert provenance["channels"] == list(CELLPAINTING.channels) and provenance["channel_mode"] == "boc"
    assert (
        provenance["model"] == str(boc) and provenance["weights_sha256"] == hashlib.sha256(boc.read_bytes()).hexdigest()
    )


def test_our_runs_are_fed_the_channels_they_recorded_and_older_runs_their_formats_order(tmp_path: Path) -> None:
    recorded = our_checkpoint(tmp_path / "new", in_chans=5, field_px=24)
    config = recorded.parent / "config.yaml"
    config.write_text(
        config.read_text().replace("format: hpa-kaggle", f"format: cellpainting\n  channels: {list(DEEPPROFILER)}")
    )
    assert feed_order(recorded, CELLPAINTING.channels) == DEEPPROFILER
    older = our_checkpoint(tmp_path / "old", in_chans=5, field_px=24)  # no data.channels: its format's order
    config = older.parent / "config.yaml"
    config.write_text(config.read_text().replace("format: hpa-kaggle", "format: cellpainting"))
    assert feed_order(older, DEEPPROFILER) == CELLPAINTING.channels
    unknown = our_checkpoint(tmp_path / "unknown", in_chans=5)  # no data section at all: the data's order
    assert feed_order(unknown, DEEPPROFILER) == DEEPPROFILER
    with pytest.raises(ValueError, match=r"takes the channels in the order \['DNA', 'ER', 'RNA', 'AGP', 'Mito'\]"):
        load_embedding_model(older, data_channels=DEEPPROFILER)


def test_every_registered_model_names_the_channels_of_a_data_format() -> None:
    """A registry name the readers do not use would never match any data."""
    formats = {frozenset(layout.channels) for layout in LAYOUTS.values()}
    for model in RELEASED_MODELS.values():
        assert model.channel_mode == "boc" or frozenset(model.channels) in formats, model.name
