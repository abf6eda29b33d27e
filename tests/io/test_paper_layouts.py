"""The package readers open the paper-shaped tiny data set of ``tests/paper_layouts.py`` as the real downloads."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

from celldino_utils.io import CELLPAINTING, HPA_KAGGLE, open_cells, open_fields, read_published
from celldino_utils.io.classes import HPA_KAGGLE_2018_CLASSES, SUBCELL_31_CLASSES
from celldino_utils.io.datasets import sample_positions
from celldino_utils.io.images import read_image
from celldino_utils.models import find_released_weights, load_released_model
from celldino_utils.synthetic.cellpainting import generate_cellpainting

from ..models.released_fixtures import official_weights, parity_cases
from ..paper_layouts import (
    FIELD_SCALES,
    HPA_CELLS_CONFIG,
    HPA_FOV_CONFIG,
    HPA_TINY_SEEDS,
    LINCS_CONFIG,
    NUCLEI_SQLITE,
    PLATEMAP_CSV,
    PROFILE_METADATA,
    hpa_tiny_card,
    write_paper_shaped,
)

PHENIX_FILE = re.compile(r"r\d{2}c\d{2}f\d{2}p01-ch[1-5]sk1fk1fl1\.tiff")
PROFILE_FEATURES = (
    "Image_Intensity_MeanIntensity",
    "Image_Intensity_StdIntensity",
    "Nuclei_Intensity_MeanIntensity",
    "Cytoplasm_Intensity_MeanIntensity",
    "Cells_Intensity_UpperQuartileIntensity",
)


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_paper_shaped(tmp_path_factory.mktemp("paper_shaped"))


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_hpa_fov_has_only_the_download_files_and_opens_without_metadata(paper: dict[str, Path]) -> None:
    folder = paper["hpa_fov"]
    assert sorted(p.name for p in folder.iterdir()) == ["fov.csv", "images"]
    assert list(pd.read_csv(folder / "fov.csv").columns) == ["file", "cell_type", *HPA_KAGGLE_2018_CLASSES]
    fields = open_fields("hpa-fov", folder)
    assert len(fields) == HPA_FOV_CONFIG.n_images
    assert list(fields.metadata.columns) == [
        "Metadata_Id",
        "Metadata_Target",
        "Metadata_class_list",
        "Metadata_cell_line",
    ]
    assert tuple(fields[0].shape) == (4, HPA_FOV_CONFIG.image_size, HPA_FOV_CONFIG.image_size)
    assert (fields.metadata["Metadata_Target"].str.len() > 0).all()


def test_hpav23_gives_one_cell_per_mask_label_over_fields_of_mixed_sizes(paper: dict[str, Path]) -> None:
    folder = paper["hpa_cells"]
    assert not (folder / "cells.csv").exists()
    cells = open_cells("hpa-kaggle", folder, crop_size=32)
    meta = cells.fields.metadata
    assert len(meta) == HPA_CELLS_CONFIG.n_images and tuple(cells[0].shape) == (4, 32, 32)
    sides = [cells.fields.field_size(i) for i in range(len(meta))]
    expected = [(round(HPA_CELLS_CONFIG.image_size * s),) * 2 for s in FIELD_SCALES]
    assert sorted(set(sides)) == expected
    assert {n: sides.count(n) for n in expected} == dict.fromkeys(expected, len(meta) // len(FIELD_SCALES))
    per_field = np.bincount(cells.field_of_cell, minlength=len(meta))
    for i, (image_id, n_cells) in enumerate(zip(meta["Metadata_Id"], meta["Metadata_n_cells"], strict=True)):
        labels = [
            set(np.unique(read_image(folder / "masks" / f"{image_id}_{kind}.png"))) - {0}
            for kind in ("cells", "nuclei")
        ]
        assert labels[0] == labels[1] == set(range(1, n_cells + 1)) and per_field[i] == n_cells
        for tag in HPA_KAGGLE.file_tags:
            with Image.open(folder / "train" / f"{image_id}_{tag}.png") as channel:
                assert channel.mode == "L" and channel.size == sides[i]


def test_hpav23_locations_and_antibody_splits(paper: dict[str, Path]) -> None:
    folder = paper["hpa_cells"]
    metadata = pd.read_csv(folder / "metadata.csv")
    locations = metadata["locations"].str.split(";")
    assert all(name in HPA_KAGGLE_2018_CLASSES and name in SUBCELL_31_CLASSES for names in locations for name in names)
    splits = pd.read_csv(folder / "splits.csv")
    assert list(splits.columns) == ["antibody", "split"]
    assert sorted(splits["antibody"]) == sorted(metadata["antibody"].unique())
    counts = splits["split"].value_counts()
    assert counts["train"] >= 0.5 * len(splits) and counts["val"] > 0 and counts["test"] > 0
    train = set(splits.loc[splits["split"] == "train", "antibody"])
    in_train = {name for names in locations[metadata["antibody"].isin(train)] for name in names}
    assert in_train == {name for names in locations for name in names}


def test_lincs_reads_as_the_unrenamed_synthetic_screen(paper: dict[str, Path], tmp_path: Path) -> None:
    folder = paper["lincs"]
    load_data = pd.read_csv(folder / "load_data.csv")
    assert [c for c in load_data.columns if c.startswith("Metadata_")] == [
        "Metadata_Plate",
        "Metadata_Well",
        "Metadata_Site",
    ]
    names = load_data[[f"FileName_Orig{tag}" for tag in CELLPAINTING.file_tags]].to_numpy().ravel()
    assert all(PHENIX_FILE.fullmatch(name) for name in names)
    assert not (folder / "compounds.csv").exists() and not (folder / "nuclei.csv").exists()
    plates = sorted(load_data["Metadata_Plate"].unique())
    assert sorted(p.stem for p in folder.glob(NUCLEI_SQLITE)) == plates  # one CellProfiler SQLite per plate
    generate_cellpainting(tmp_path, LINCS_CONFIG)
    renamed = open_cells("cellpainting", folder, crop_size=32, platemap_csv=PLATEMAP_CSV, nuclei=NUCLEI_SQLITE)
    original = open_cells("cellpainting", tmp_path, crop_size=32)
    assert sorted(renamed.metadata.columns) == sorted(original.metadata.columns)
    moa = renamed.metadata["Metadata_moa"]
    pd.testing.assert_frame_equal(
        renamed.metadata.drop(columns=moa.name), original.metadata[renamed.metadata.columns].drop(columns=moa.name)
    )
    changed = renamed.metadata.loc[moa.ne(original.metadata[moa.name]), "Metadata_broad_sample"]
    assert changed.nunique() == 2  # as on real plates: one compound without an MoA, one with two
    assert moa.isna().any() and moa.str.contains("|", regex=False).any()
    for i in sample_positions(len(renamed.fields), 6):
        np.testing.assert_array_equal(renamed.fields[i].numpy(), original.fields[i].numpy())
    for i in sample_positions(len(renamed), 6):
        np.testing.assert_array_equal(renamed[i].numpy(), original[i].numpy())


def test_published_profiles_get_dose_codes_and_dmso_controls(paper: dict[str, Path]) -> None:
    path = paper["lincs_profiles"]
    raw = pd.read_csv(path)
    assert [c for c in raw.columns if c.startswith("Metadata_")] == list(PROFILE_METADATA)
    assert {f"{name}_{stain}" for name in PROFILE_FEATURES for stain in CELLPAINTING.channels} <= set(raw.columns)
    profiles = read_published(path)
    features = profiles.filter(regex="^(Cells|Cytoplasm|Nuclei|Image)_").to_numpy()
    assert np.isfinite(features).all()
    sites = open_fields("cellpainting", paper["lincs"], platemap_csv=PLATEMAP_CSV).metadata  # codes checked there
    platemap = sites.drop_duplicates(["Metadata_Plate", "Metadata_Well"])[
        ["Metadata_Plate", "Metadata_Well", "Metadata_dose_recode"]
    ]
    merged = profiles.merge(platemap, on=["Metadata_Plate", "Metadata_Well"], suffixes=("", "_platemap"))
    assert len(merged) == len(profiles) == len(platemap)
    assert set(profiles["Metadata_dose_recode"]) == set(range(7))
    assert merged["Metadata_dose_recode"].tolist() == merged["Metadata_dose_recode_platemap"].tolist()
    dmso = (profiles["Metadata_broad_sample"] == "DMSO").to_numpy()
    assert (dmso == (profiles["Metadata_pert_type"] == "control")).all()
    assert dmso.sum() == LINCS_CONFIG.plates_per_batch * LINCS_CONFIG.dmso_wells_per_plate
    np.testing.assert_allclose(features[dmso].mean(axis=0), 0.0, atol=1e-8)  # sphered on the DMSO wells


def test_checkpoints_are_found_and_load_in_the_official_key_format(
    paper: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CELLDINO_CHECKPOINTS", raising=False)
    monkeypatch.setenv("CELLDINO_DATA_ROOT", str(paper["checkpoints"].parents[2]))
    assert find_released_weights("cell_dino_cp_vits8") == paper["checkpoints"]
    model = load_released_model("cell_dino_cp_vits8")
    with torch.no_grad():
        assert tuple(model(torch.zeros(1, 5, 128, 128)).shape) == (1, 384)
    assert re.fullmatch(r"cell_dino_vits8_pretrain_cp-[0-9a-f]{8}\.pth", paper["checkpoints"].name)
    for kind, seed in HPA_TINY_SEEDS.items():
        card_path = paper["cards"] / f"cell_dino_hpa_vitt16_{kind}.yaml"
        assert card_path.read_text() == hpa_tiny_card(kind)
        card = yaml.safe_load(card_path.read_text())
        assert card["like"] == f"cell_dino_hpa_vitl16_{kind}"
        state = torch.load(paper["cards"] / card["weights"], map_location="cpu", weights_only=True)
        expected = official_weights(parity_cases()["vit_tiny_p16_4ch"], seed=seed)
        assert state.keys() == expected.keys() and all(torch.equal(state[k], v) for k, v in expected.items())


def test_the_same_root_contents_are_written_byte_for_byte(paper: dict[str, Path], tmp_path: Path) -> None:
    root = paper["hpa_fov"].parent
    assert _digest(Path(write_paper_shaped(tmp_path)["hpa_fov"]).parent) == _digest(root)
