"""A tiny data set in the on-disk layouts of the paper's real downloads, for the ``paper-tiny`` run of the series.

:func:`write_paper_shaped` writes, under one root, the package's synthetic data (so the truth is known) reshaped
into the layouts a user who downloaded the paper's data would have: the Cell-DINO HPA-FoV set, HPAv23 single cells
in the Kaggle 2021 layout with fields of mixed sizes, LINCS Cell Painting images named by an Opera Phenix, the
published LINCS spherized CellProfiler profiles, and backbones in the official Cell-DINO key format. Everything the
real downloads lack (planted truth tables, masks of HPA-FoV, ``compounds.csv``) is removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pycytominer
from PIL import Image

from celldino_utils.io import CELLPAINTING, HPA_KAGGLE, open_fields
from celldino_utils.io.cellpainting import CENTRE_COLUMNS, SITE_KEYS
from celldino_utils.io.classes import HPA_KAGGLE_2018_CLASSES
from celldino_utils.io.files import (
    CELL_MASK_SUFFIX,
    CELLS_CSV,
    HPA_IMAGE_DIR,
    HPA_METADATA_CSV,
    LOAD_DATA_CSV,
    MASK_DIR,
    NUCLEI_CSV,
    NUCLEUS_MASK_SUFFIX,
)
from celldino_utils.io.nuclei import read_nucleus_centres, write_nuclei_sqlite
from celldino_utils.io.stamps import file_sha256
from celldino_utils.models import RELEASED_MODELS
from celldino_utils.synthetic.cellpainting import cellpainting_preset, generate_cellpainting
from celldino_utils.synthetic.hpa import generate_hpa, hpa_preset

from .models.released_fixtures import parity_cases, save_official_weights

HPA_FOV_CONFIG = hpa_preset("tiny", seed=1)
#: 24 antibodies imaged twice each, so an antibody split has non-empty train, val and test parts.
HPA_CELLS_CONFIG = hpa_preset("tiny", seed=2, n_images=48, n_proteins=16, cells_per_image=(2, 4))
LINCS_CONFIG = cellpainting_preset("tiny")
#: Seeds of the field rescaling and of the antibody split of the HPAv23 set.
SCALE_SEED, SPLIT_SEED = 3, 4
#: Upscaling factors of the HPAv23 fields, a third of the fields each (Kaggle 2021 mixes 1728, 2048, 3072 px).
FIELD_SCALES = (1.0, 1.5, 2.0)
#: Fraction of the HPAv23 antibodies in ``val`` and, again, in ``test``; the rest (about 60 %) are in ``train``.
HELD_OUT_FRACTION = 0.2
#: Opera Phenix channel number (``-ch<k>``) of each stain; deliberately not the order of our channels.
PHENIX_CHANNELS = {"DNA": 5, "ER": 4, "RNA": 3, "AGP": 1, "Mito": 2}
PLATEMAP_CSV = "platemap.csv"
#: The CellProfiler SQLite of each plate, where the Gallery keeps LINCS Level 2: ``backend/<batch>/<plate>/``.
NUCLEI_SQLITE = "backend/*/*/*.sqlite"
PROFILES_FILE = "2016_04_01_a549_48hr_batch1_dmso_spherized_profiles_with_input_normalized_by_whole_plate.csv.gz"
PROFILE_METADATA = (
    "Metadata_Plate",
    "Metadata_Well",
    "Metadata_broad_sample",
    "Metadata_pert_iname",
    "Metadata_moa",
    "Metadata_mmoles_per_liter",
)
#: Radii (pixels) of the nucleus disk and of the cell disk around a nucleus centre; the cytoplasm is between.
NUCLEUS_RADIUS, CELL_RADIUS = 4.0, 9.0
SPHERE_EPSILON = 1e-6
DMSO_QUERY = "Metadata_broad_sample == 'DMSO'"
#: The HPA ViT-L/16 comes as two checkpoints of one architecture: here two ViT-Ti/16 backbones in the official key
#: format, each with its own parity-rule weights (seed of the draw; the fixture's outputs are those of seed 1000).
HPA_TINY_SEEDS = {"fov": 1000, "cells": 2000}
#: Prefix of the hash suffix (torch.hub's ``-<sha256 prefix>``) in the Cell Painting model's release name.
HASH_PREFIX_DIGITS = 8


def hpa_tiny_card(kind: str) -> str:
    """The model card of the small HPA backbone standing in for the ``kind`` (``cells`` or ``fov``) checkpoint."""
    return f"""\
# A small backbone in the official Cell-DINO key format, for tests: the HPA ViT-L/16 ({kind}) at ViT-Ti/16 size.
name: cell_dino_hpa_vitt16_{kind}
like: cell_dino_hpa_vitl16_{kind}
arch: vit_tiny
img_size: 64
weights: cell_dino_hpa_vitt16_{kind}.pth
training_data: parity-rule weights (tests/fixtures, seed {HPA_TINY_SEEDS[kind]}), not a trained model
"""


def write_paper_shaped(root: Path) -> dict[str, Path]:
    """Write the tiny paper-shaped data set and checkpoints under ``root``; every call writes the same bytes.

    Parameters
    ----------
    root : Path
        Folder to write into (created); meant as ``CELLDINO_DATA_ROOT``.

    Returns
    -------
    dict of str to Path
        ``hpa_fov`` (``root/hpa_fov``), ``hpa_cells`` (``root/hpav23``), ``lincs`` (``root/lincs``),
        ``lincs_profiles`` (the gzipped CSV under ``root/lincs_profiles``), ``checkpoints`` (the Cell Painting
        model under its release name, ``root/checkpoints/released/cell_dino_vits8_pretrain_cp-<sha256 prefix>.pth``)
        and ``cards`` (``root/checkpoints/cards``, the two HPA cards and their weights).
    """
    root = Path(root)
    paths = {"hpa_fov": _write_hpa_fov(root / "hpa_fov"), "hpa_cells": _write_hpa_cells(root / "hpav23")}
    paths["lincs"] = _write_lincs(root / "lincs")
    paths["lincs_profiles"] = _write_lincs_profiles(paths["lincs"], root / "lincs_profiles" / PROFILES_FILE)
    paths["checkpoints"], paths["cards"] = _write_checkpoints(root / "checkpoints")
    return paths


def _write_hpa_fov(out: Path) -> Path:
    """HPA-FoV (S-BIAD2443): ``fov.csv`` (``file``, ``cell_type``, 28 class columns) and RGBA ``images/{Id}.png``."""
    generate_hpa(out, HPA_FOV_CONFIG, layout="hpa-fov")
    for name in (HPA_METADATA_CSV, CELLS_CSV):
        (out / name).unlink()
    shutil.rmtree(out / MASK_DIR)
    return out


def _write_hpa_cells(out: Path) -> Path:
    """HPAv23 in the Kaggle 2021 layout: fields of mixed sizes with their masks, ``metadata.csv`` with
    ``locations``, and ``splits.csv`` (``antibody,split``)."""
    metadata = generate_hpa(out, HPA_CELLS_CONFIG, layout="kaggle-2021")
    cells = pd.read_csv(out / CELLS_CSV, dtype={"Target": str})
    (out / CELLS_CSV).unlink()
    metadata["locations"] = metadata["Id"].map(_image_locations(cells))
    metadata.to_csv(out / HPA_METADATA_CSV, index=False)
    scales = np.random.default_rng(SCALE_SEED).permutation(np.resize(FIELD_SCALES, len(metadata)))
    for image_id, scale in zip(metadata["Id"], scales, strict=True):
        if scale != 1.0:
            _upscale_field(out, image_id, scale)
    _antibody_splits(metadata).to_csv(out / "splits.csv", index=False)
    return out


def _image_locations(cells: pd.DataFrame) -> pd.Series:
    """Per image ``Id``: the union of its cells' classes (``Target``, 2018 indices) as names joined with ``;``."""
    indices = cells.groupby("Id")["Target"].agg(lambda targets: sorted({int(i) for t in targets for i in t.split()}))
    return indices.map(lambda found: ";".join(HPA_KAGGLE_2018_CLASSES[i] for i in found))


def _upscale_field(out: Path, image_id: str, scale: float) -> None:
    """Resize the four channel PNGs (bilinear, uint8) and both label masks (nearest, labels kept) by ``scale``."""
    for tag in HPA_KAGGLE.file_tags:
        path = out / HPA_IMAGE_DIR / f"{image_id}_{tag}.png"
        with Image.open(path) as image:
            size = (round(image.width * scale), round(image.height * scale))
            resized = image.resize(size, Image.Resampling.BILINEAR)
        resized.save(path, compress_level=1)
    for suffix in (CELL_MASK_SUFFIX, NUCLEUS_MASK_SUFFIX):
        path = out / MASK_DIR / f"{image_id}{suffix}"
        with Image.open(path) as image:
            labels = np.asarray(image, dtype=np.uint16)
        rows, cols = (_nearest(n, round(n * scale)) for n in labels.shape)
        Image.fromarray(labels[np.ix_(rows, cols)]).save(path, compress_level=1)


def _nearest(old: int, new: int) -> np.ndarray:
    """Source index ``(new,)`` of each output pixel of a nearest-neighbour resize from ``old`` to ``new`` pixels."""
    return np.minimum(((np.arange(new) + 0.5) * old / new).astype(int), old - 1)


def _antibody_splits(metadata: pd.DataFrame) -> pd.DataFrame:
    """Split the antibodies about 60/20/20 into ``train``/``val``/``test``, every class of the data in train.

    Returns
    -------
    pandas.DataFrame
        Columns ``antibody``, ``split``; one row per antibody, sorted by antibody.
    """
    classes = metadata.groupby("antibody")["locations"].agg(lambda s: set(";".join(s).split(";")))
    order = list(np.random.default_rng(SPLIT_SEED).permutation(classes.index.to_numpy()))
    n_val = n_test = round(HELD_OUT_FRACTION * len(order))
    train: list[str] = []
    for name in sorted(set().union(*classes), key=HPA_KAGGLE_2018_CLASSES.index):
        if not any(name in classes[a] for a in train):
            train.append(next(a for a in order if name in classes[a]))
    rest = [a for a in order if a not in train]
    train += rest[: len(order) - n_val - n_test - len(train)]
    rest = [a for a in rest if a not in train]
    split = dict.fromkeys(train, "train") | dict.fromkeys(rest[:n_val], "val") | dict.fromkeys(rest[n_val:], "test")
    return pd.DataFrame({"antibody": classes.index, "split": [split[a] for a in classes.index]})


def _phenix_name(well: str, site: int, stain: str) -> str:
    """Opera Phenix file name of one plane, e.g. well B03, site 1, DNA -> ``r02c03f01p01-ch5sk1fk1fl1.tiff``."""
    row, col = "ABCDEFGHIJKLMNOP".index(well[0]) + 1, int(well[1:])
    return f"r{row:02d}c{col:02d}f{site:02d}p01-ch{PHENIX_CHANNELS[stain]}sk1fk1fl1.tiff"


def _write_lincs(out: Path) -> Path:
    """LINCS Cell Painting as the Gallery has it: ``images/<batch>/images/<plate>/`` of Phenix-named TIFFs, a
    ``load_data.csv`` of sites and files only, ``platemap.csv`` (one row per plate and well, with a compound
    without an MoA and one with two, as real plates have) and the nucleus centres in a CellProfiler SQLite per
    plate, ``backend/<batch>/<plate>/<plate>.sqlite``."""
    synthetic = generate_cellpainting(out, LINCS_CONFIG)
    (out / "compounds.csv").unlink()
    _write_nuclei_sqlite(out, synthetic)
    files = [f"{kind}_Orig{tag}" for tag in CELLPAINTING.file_tags for kind in ("FileName", "PathName")]
    load_data = synthetic[[*SITE_KEYS, *files]].copy()
    folders = "images/" + synthetic["Metadata_Batch"] + "/images/" + synthetic["Metadata_Plate"]
    for folder in folders.unique():
        (out / folder).mkdir(parents=True, exist_ok=True)
    sites = list(zip(synthetic["Metadata_Well"], synthetic["Metadata_Site"], strict=True))
    for stain, tag in zip(CELLPAINTING.channels, CELLPAINTING.file_tags, strict=True):
        names = [_phenix_name(well, site, stain) for well, site in sites]
        old = synthetic[f"PathName_Orig{tag}"] + "/" + synthetic[f"FileName_Orig{tag}"]
        for source, folder, name in zip(old, folders, names, strict=True):
            (out / source).rename(out / folder / name)
        load_data[f"FileName_Orig{tag}"], load_data[f"PathName_Orig{tag}"] = names, folders
    for folder in synthetic["PathName_OrigDNA"].unique():
        (out / folder).rmdir()
    load_data.to_csv(out / LOAD_DATA_CSV, index=False)
    derived = ["Metadata_dose_recode", "Metadata_pert_type"]  # the reader derives them from the dose, as in LINCS
    treatments = synthetic.drop(columns=["Metadata_Site", *derived, *files]).drop_duplicates(ignore_index=True)
    first = ["Metadata_Plate", "Metadata_Well"]
    treatments = _real_annotations(treatments)
    treatments[[*first, *treatments.columns.drop(first)]].to_csv(out / PLATEMAP_CSV, index=False)
    return out


def _write_nuclei_sqlite(out: Path, synthetic: pd.DataFrame) -> None:
    """Move the synthetic ``nuclei.csv`` into one cytominer-database SQLite per plate, under ``backend/``."""
    nuclei = pd.read_csv(out / NUCLEI_CSV)
    batch_of = synthetic.drop_duplicates("Metadata_Plate").set_index("Metadata_Plate")["Metadata_Batch"]
    for plate, rows in nuclei.groupby("Metadata_Plate", sort=True):
        write_nuclei_sqlite(rows, out / "backend" / batch_of[plate] / plate / f"{plate}.sqlite")
    (out / NUCLEI_CSV).unlink()


def _real_annotations(treatments: pd.DataFrame) -> pd.DataFrame:
    """The MoA annotations as real LINCS plates have them: the first treated compound (in name order) has none,
    and the first of another MoA has two (``"<its MoA>|<the first's MoA>"``)."""
    treated = treatments[treatments["Metadata_broad_sample"] != "DMSO"]
    moa_of = treated.drop_duplicates("Metadata_broad_sample").set_index("Metadata_broad_sample")["Metadata_moa"]
    moa_of = moa_of.sort_index()
    unannotated = moa_of.index[0]
    several = moa_of[moa_of != moa_of.iloc[0]].index[0]
    annotated = treatments.copy()
    compound = annotated["Metadata_broad_sample"]
    annotated.loc[compound == several, "Metadata_moa"] = f"{moa_of[several]}|{moa_of.iloc[0]}"
    annotated.loc[compound == unannotated, "Metadata_moa"] = np.nan
    return annotated


def _write_lincs_profiles(lincs: Path, path: Path) -> Path:
    """Published LINCS profiles measured from ``lincs``: CellProfiler-named well medians, robust z-scored per
    plate against the whole plate, ZCA-sphered on the DMSO wells; ``PROFILE_METADATA`` columns, gzipped CSV."""
    fields = open_fields("cellpainting", lincs, platemap_csv=PLATEMAP_CSV)
    nuclei = read_nucleus_centres(lincs, nuclei=NUCLEI_SQLITE).groupby(list(SITE_KEYS), observed=True)
    site_rows, cell_rows = [], []
    for i, site in fields.metadata.iterrows():
        image = fields[i].numpy()
        keys = dict(site[["Metadata_Plate", "Metadata_Well"]])
        site_rows.append(keys | _image_features(image))
        centres = nuclei.get_group(tuple(site[list(SITE_KEYS)]))[list(CENTRE_COLUMNS)].to_numpy()
        cell_rows += [keys | _cell_features(image, x, y) for x, y in centres]
    wells = ["Metadata_Plate", "Metadata_Well"]
    measured = pd.DataFrame(cell_rows).groupby(wells).median().join(pd.DataFrame(site_rows).groupby(wells).median())
    measured = measured[sorted(measured.columns)]  # alphabetical, as in CellProfiler profiles
    platemap = pd.read_csv(lincs / PLATEMAP_CSV).set_index(wells)
    platemap.loc[platemap["Metadata_broad_sample"] == "DMSO", "Metadata_moa"] = np.nan  # as the published files
    table = platemap[list(PROFILE_METADATA[2:])].join(measured, how="inner").reset_index()
    features = list(measured.columns)
    normalized = pd.concat(
        pycytominer.normalize(
            plate, features=features, meta_features=list(PROFILE_METADATA), samples="all", method="mad_robustize"
        )
        for _, plate in table.groupby("Metadata_Plate", sort=True)
    )
    sphered = pycytominer.normalize(
        normalized,
        features=features,
        meta_features=list(PROFILE_METADATA),
        samples=DMSO_QUERY,
        method="spherize",
        spherize_method="ZCA",
        spherize_center=True,
        spherize_epsilon=SPHERE_EPSILON,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    sphered.to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
    return path


def _image_features(image: np.ndarray) -> dict[str, float]:
    """Whole-site features of a ``(5, H, W)`` field: ``Image_Intensity_{Mean,Std}Intensity_<Stain>``."""
    features = {}
    for stain, plane in zip(CELLPAINTING.channels, image, strict=True):
        features[f"Image_Intensity_MeanIntensity_{stain}"] = float(plane.mean())
        features[f"Image_Intensity_StdIntensity_{stain}"] = float(plane.std())
    return features


def _cell_features(image: np.ndarray, x: float, y: float) -> dict[str, float]:
    """Features of the cell whose nucleus is centred at ``(x, y)`` in a ``(5, H, W)`` field: nucleus disk mean,
    cytoplasm annulus mean and the upper quartile of the cell disk, per stain."""
    yy, xx = np.mgrid[: image.shape[1], : image.shape[2]]
    distance = np.hypot(xx - x, yy - y)
    nucleus, cell = distance <= NUCLEUS_RADIUS, distance <= CELL_RADIUS
    features = {}
    for stain, plane in zip(CELLPAINTING.channels, image, strict=True):
        features[f"Cells_Intensity_UpperQuartileIntensity_{stain}"] = float(np.quantile(plane[cell], 0.75))
        features[f"Cytoplasm_Intensity_MeanIntensity_{stain}"] = float(plane[cell & ~nucleus].mean())
        features[f"Nuclei_Intensity_MeanIntensity_{stain}"] = float(plane[nucleus].mean())
    return features


def _write_checkpoints(out: Path) -> tuple[Path, Path]:
    """The released Cell Painting ViT-S/8 in ``released/`` under its release name with torch.hub's hash suffix,
    and the two ViT-Ti/16 HPA backbones (single cells, HPA-FoV) with their model cards in ``cards/``; all in the
    official key format (parity-rule weights). Returns (the Cell Painting file, cards)."""
    released, cards = out / "released", out / "cards"
    for folder in (released, cards):
        folder.mkdir(parents=True, exist_ok=True)
    cases = parity_cases()
    saved = save_official_weights(cases["cell_dino_cp_vits8"], released)
    stem = RELEASED_MODELS["cell_dino_cp_vits8"].release_stems[0]
    weights = saved.replace(released / f"{stem}-{file_sha256(saved)[:HASH_PREFIX_DIGITS]}.pth")
    for kind, seed in HPA_TINY_SEEDS.items():
        tiny = save_official_weights(cases["vit_tiny_p16_4ch"], cards, seed=seed)
        tiny.replace(cards / f"cell_dino_hpa_vitt16_{kind}.pth")
        (cards / f"cell_dino_hpa_vitt16_{kind}.yaml").write_text(hpa_tiny_card(kind))
    return weights, cards
