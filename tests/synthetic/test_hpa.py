"""Synthetic HPA generator: on-disk layouts, ground truth consistency, determinism and config validation."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from celldino_utils.io.classes import HPA_KAGGLE_2018_CLASSES, HPA_KAGGLE_2021_CLASSES
from celldino_utils.synthetic.hpa import (
    DEFAULT_HPA_CLASSES,
    HETEROGENEITY_TYPES,
    HPASyntheticConfig,
    generate_hpa,
    hpa_preset,
)

TAGS = ("red", "green", "blue", "yellow")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def config() -> HPASyntheticConfig:
    return hpa_preset("tiny")


@pytest.fixture(scope="module")
def datasets(config: HPASyntheticConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny preset written once in each layout."""
    out = {}
    for layout in ("kaggle-2018", "kaggle-2021", "hpa-fov"):
        out[layout] = tmp_path_factory.mktemp(layout)
        generate_hpa(out[layout], config, layout=layout)
    return out


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _names(target: str, sep: str = " ", classes: tuple[str, ...] = HPA_KAGGLE_2018_CLASSES) -> set[str]:
    return {classes[int(i)] for i in target.split(sep)}


def test_same_seed_writes_identical_files(config: HPASyntheticConfig, datasets: dict, tmp_path: Path) -> None:
    generate_hpa(tmp_path, config)
    first = sorted(p.relative_to(datasets["kaggle-2018"]) for p in datasets["kaggle-2018"].rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (datasets["kaggle-2018"] / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_other_seed_differs(config: HPASyntheticConfig, datasets: dict, tmp_path: Path) -> None:
    meta = generate_hpa(tmp_path, hpa_preset("tiny", seed=1))
    assert set(meta["Id"]).isdisjoint(_read(datasets["kaggle-2018"] / "metadata.csv")["Id"])


def test_kaggle_2018_layout(config: HPASyntheticConfig, datasets: dict) -> None:
    root = datasets["kaggle-2018"]
    train = _read(root / "train.csv")
    assert list(train.columns) == ["Id", "Target"]
    assert len(train) == config.n_images and train["Id"].is_unique
    assert all(UUID.match(i) for i in train["Id"])
    for uid in train["Id"][:4]:
        for tag in TAGS:
            image = Image.open(root / "train" / f"{uid}_{tag}.png")
            assert image.mode == "L" and image.size == (config.image_size, config.image_size)
    for target in train["Target"]:
        indices = [int(i) for i in target.split(" ")]
        assert indices == sorted(set(indices))


def test_kaggle_2021_layout(datasets: dict) -> None:
    train = _read(datasets["kaggle-2021"] / "train.csv")
    assert list(train.columns) == ["ID", "Label"]
    old = _read(datasets["kaggle-2018"] / "train.csv")
    assert list(train["ID"]) == list(old["Id"])
    rename = {"Endosomes": "Vesicles and punctate cytosolic patterns"}
    for label, target in zip(train["Label"], old["Target"], strict=True):
        expected = {rename.get(n, n) for n in _names(target)}
        assert _names(label, "|", HPA_KAGGLE_2021_CLASSES) == expected
    assert (datasets["kaggle-2021"] / "train" / f"{train['ID'][0]}_green.png").exists()


def test_hpa_fov_layout_holds_the_same_pixels(datasets: dict) -> None:
    root = datasets["hpa-fov"]
    fov = pd.read_csv(root / "fov.csv")
    assert list(fov.columns) == ["file", "cell_type", *HPA_KAGGLE_2018_CLASSES]
    assert all(fov[name].dtype == bool for name in HPA_KAGGLE_2018_CLASSES)
    meta = _read(root / "metadata.csv")
    assert list(fov["cell_type"]) == list(meta["cell_line"])
    old = _read(datasets["kaggle-2018"] / "train.csv")
    flags = fov[list(HPA_KAGGLE_2018_CLASSES)].to_numpy()
    for row, target in zip(flags, old["Target"], strict=True):
        assert {name for name, flag in zip(HPA_KAGGLE_2018_CLASSES, row, strict=True) if flag} == _names(target)
    uid = meta["Id"][0]
    rgba = Image.open(root / fov["file"][0])
    assert rgba.mode == "RGBA"
    stacked = np.stack([np.asarray(Image.open(datasets["kaggle-2018"] / "train" / f"{uid}_{t}.png")) for t in TAGS], -1)
    np.testing.assert_array_equal(np.asarray(rgba), stacked)


def test_metadata_masks_and_cells_agree(config: HPASyntheticConfig, datasets: dict) -> None:
    root = datasets["kaggle-2018"]
    meta = pd.read_csv(root / "metadata.csv")
    assert list(meta.columns) == ["Id", "cell_line", "plate", "antibody", "gene", "heterogeneity", "n_cells"]
    cells = pd.read_csv(root / "cells.csv", dtype={"Target": str})
    assert list(cells.columns) == ["Id", "cell_id", "center_x", "center_y", "Target", "protein_level"]
    counts = cells.groupby("Id").size()
    assert (meta.set_index("Id")["n_cells"] == counts.reindex(meta["Id"]).to_numpy()).all()
    low, high = config.cells_per_image
    assert meta["n_cells"].between(low, high).all()
    for uid, group in cells.groupby("Id"):
        whole = np.asarray(Image.open(root / "masks" / f"{uid}_cells.png"))
        nuclei = np.asarray(Image.open(root / "masks" / f"{uid}_nuclei.png"))
        assert whole.dtype == np.uint16 and nuclei.dtype == np.uint16
        ids = set(group["cell_id"])
        assert set(np.unique(whole)) - {0} == ids and set(np.unique(nuclei)) - {0} == ids
        assert (whole[nuclei > 0] == nuclei[nuclei > 0]).all()
        rows, cols = np.rint(group["center_y"]).astype(int), np.rint(group["center_x"]).astype(int)
        assert (whole[rows, cols] == group["cell_id"].to_numpy()).all()
    assert (cells["protein_level"] > 0).all()


def test_image_labels_are_the_union_of_cell_labels(datasets: dict) -> None:
    root = datasets["kaggle-2018"]
    train = _read(root / "train.csv").set_index("Id")["Target"]
    meta = _read(root / "metadata.csv").set_index("Id")
    for uid, group in _read(root / "cells.csv").groupby("Id"):
        per_cell = [_names(t) for t in group["Target"]]
        assert set().union(*per_cell) == _names(train[uid])
        if meta.loc[uid, "heterogeneity"] != "spatial":
            assert all(names == per_cell[0] for names in per_cell)
    assert meta.groupby("antibody")["gene"].nunique().eq(1).all()
    assert meta.groupby("plate")["cell_line"].nunique().eq(1).all()


def test_every_class_heterogeneity_and_cell_line_appears(config: HPASyntheticConfig, datasets: dict) -> None:
    root = datasets["kaggle-2018"]
    train = _read(root / "train.csv")
    assert set().union(*(_names(t) for t in train["Target"])) == set(config.classes)
    meta = _read(root / "metadata.csv")
    assert set(meta["heterogeneity"]) == set(HETEROGENEITY_TYPES)
    assert set(meta["cell_line"]) == set(config.cell_lines)
    assert meta.groupby("antibody").size().min() >= 2
    assert meta.groupby("antibody")["cell_line"].nunique().min() >= 2


def test_intensity_heterogeneity_spreads_protein_levels(datasets: dict) -> None:
    root = datasets["kaggle-2018"]
    cells = pd.read_csv(root / "cells.csv").merge(pd.read_csv(root / "metadata.csv"), on="Id")
    spread = cells.assign(log=np.log(cells["protein_level"])).groupby(["heterogeneity", "Id"])["log"].std()
    assert spread["intensity"].mean() > 3 * spread["none"].mean()


def test_spatial_heterogeneity_mixes_classes_within_an_image(datasets: dict) -> None:
    root = datasets["kaggle-2018"]
    cells = _read(root / "cells.csv").merge(_read(root / "metadata.csv"), on="Id")
    spatial = cells[(cells["heterogeneity"] == "spatial") & (cells["n_cells"].astype(int) > 1)]
    assert len(spatial) and spatial.groupby("Id")["Target"].nunique().eq(2).all()


def test_default_preset_matches_the_main_job() -> None:
    config = hpa_preset("default")
    assert 800 <= config.n_images <= 1000 and config.image_size == 128 and config.cells_per_image == (3, 6)
    assert len(config.classes) >= 8 and len(config.cell_lines) >= 4
    assert hpa_preset("default", classes=["Nucleoli", "Cytosol"]).classes == ("Nucleoli", "Cytosol")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_images", 0),
        ("image_size", 16),
        ("image_size", 64.0),
        ("cell_lines", ("U2OS", "NOT_A_LINE")),
        ("cell_lines", ()),
        ("classes", ("Nucleoplasm", "Nucleoplasma")),
        ("classes", ("Nucleoplasm", "Cytokinetic bridge")),
        ("n_proteins", 2),
        ("n_proteins", 600),
        ("multilabel_fraction", 1.5),
        ("heterogeneity_fractions", (0.5, 0.5, 0.5)),
        ("heterogeneity_fractions", (1.0, 0.0)),
        ("plates_per_cell_line", 0),
        ("cells_per_image", (3, 2)),
        ("cells_per_image", (1, 80)),
        ("seed", -1),
        ("seed", True),
    ],
)
def test_invalid_config_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        hpa_preset("default", **{field: value})


def test_bad_preset_layout_and_2021_mapping(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="preset"):
        hpa_preset("huge")
    with pytest.raises(ValueError, match="colour"):
        hpa_preset("tiny", colour="red")
    with pytest.raises(ValueError, match="layout"):
        generate_hpa(tmp_path, hpa_preset("tiny"), layout="kaggle-2019")
    config = hpa_preset("tiny", classes=(*DEFAULT_HPA_CLASSES, "Rods & rings"))
    with pytest.raises(ValueError, match="Rods & rings"):
        generate_hpa(tmp_path, config, layout="kaggle-2021")
    assert not any(tmp_path.iterdir())
