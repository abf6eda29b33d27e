"""Tests of the synthetic LINCS-style Cell Painting generator (tiny preset)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from celldino_utils.io.channels import CELLPAINTING
from celldino_utils.synthetic.cellpainting import (
    LINCS_DOSES_UM,
    CellPaintingSyntheticConfig,
    cellpainting_preset,
    generate_cellpainting,
    planted_cellpainting_effects,
)

SITE_KEYS = ["Metadata_Plate", "Metadata_Well", "Metadata_Site"]
LOAD_DATA_COLUMNS = [
    "Metadata_Batch",
    *SITE_KEYS,
    "Metadata_broad_sample",
    "Metadata_pert_iname",
    "Metadata_moa",
    "Metadata_mmoles_per_liter",
    "Metadata_dose_recode",
    "Metadata_pert_type",
] + [f"{kind}_Orig{tag}" for tag in ("DNA", "ER", "RNA", "AGP", "Mito") for kind in ("FileName", "PathName")]
NUCLEI_COLUMNS = [*SITE_KEYS, "Metadata_ObjectNumber", "Nuclei_Location_Center_X", "Nuclei_Location_Center_Y"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CellPaintingSyntheticConfig, pd.DataFrame]:
    out = tmp_path_factory.mktemp("cellpainting")
    config = cellpainting_preset("tiny")
    return out, config, generate_cellpainting(out, config)


def _read(root: Path, row: pd.Series, tag: str) -> np.ndarray:
    return tifffile.imread(root / row[f"PathName_Orig{tag}"] / row[f"FileName_Orig{tag}"])


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_files_and_columns(tiny):
    root, config, load_data = tiny
    assert list(load_data.columns) == LOAD_DATA_COLUMNS
    pd.testing.assert_frame_equal(pd.read_csv(root / "load_data.csv"), load_data, check_dtype=False)
    n_sites = len(config.batches) * config.plates_per_batch * config.n_wells * config.sites_per_well
    assert len(load_data) == n_sites and not load_data.duplicated(SITE_KEYS).any()
    assert list(pd.read_csv(root / "nuclei.csv").columns) == NUCLEI_COLUMNS
    truth = pd.read_csv(root / "compounds.csv")
    assert {"Metadata_broad_sample", "Metadata_pert_iname", "Metadata_moa", "ec50_um", "hill"} <= set(truth.columns)
    for _, row in load_data.iterrows():
        path = Path(row.PathName_OrigDNA)
        assert path.parts == ("images", row.Metadata_Batch, row.Metadata_Plate)
        for tag in CELLPAINTING.file_tags:
            assert row[f"FileName_Orig{tag}"] == f"{row.Metadata_Well}_s{row.Metadata_Site}_{tag}.tiff"
            assert (root / row[f"PathName_Orig{tag}"] / row[f"FileName_Orig{tag}"]).is_file()
    assert load_data.Metadata_Well.str.fullmatch(r"[A-P](0[1-9]|1\d|2[0-4])").all()


def test_plate_design(tiny):
    _, config, load_data = tiny
    dmso = load_data[load_data.Metadata_pert_type == "control"]
    assert (dmso.Metadata_broad_sample == "DMSO").all() and (dmso.Metadata_pert_iname == "DMSO").all()
    assert (dmso.Metadata_moa == "control").all() and (dmso.Metadata_mmoles_per_liter == 0.0).all()
    assert (dmso.Metadata_dose_recode == 0).all()
    assert dmso.groupby("Metadata_Plate").Metadata_Well.nunique().to_dict() == {
        plate: config.dmso_wells_per_plate for plate in load_data.Metadata_Plate.unique()
    }
    trt = load_data[load_data.Metadata_pert_type == "trt"]
    assert set(load_data.Metadata_pert_type) == {"control", "trt"}
    assert trt.Metadata_broad_sample.str.fullmatch(r"BRD-K\d{8}-\d{3}-\d{2}-\d").all()
    per_moa = trt.groupby("Metadata_moa").Metadata_broad_sample.nunique()
    assert len(per_moa) >= 8 and (per_moa >= 3).all()
    assert sorted(trt.Metadata_mmoles_per_liter.unique()) == list(LINCS_DOSES_UM)
    recode = dict(zip(trt.Metadata_mmoles_per_liter, trt.Metadata_dose_recode, strict=True))
    assert recode == {dose: k + 1 for k, dose in enumerate(LINCS_DOSES_UM)}
    cells = trt.groupby(["Metadata_Plate", "Metadata_broad_sample"]).Metadata_dose_recode.nunique()
    assert (cells == len(config.doses_um)).all() and len(cells) == 2 * 8 * 3


def test_images_are_16_bit_fields(tiny):
    root, config, load_data = tiny
    for _, row in load_data.sample(12, random_state=0).iterrows():
        for tag in CELLPAINTING.file_tags:
            image = _read(root, row, tag)
            assert image.dtype == np.uint16 and image.shape == (config.site_size, config.site_size)
            low, bright = np.percentile(image, [5, 99.5])
            assert 100 < low < 4000 and bright > 1.5 * low and bright > 1000  # signal in the thousands
        dna_background = np.percentile(_read(root, row, "DNA"), 5)  # DNA stains nuclei only: much background
        assert 100 < dna_background < 1500  # a few hundred counts


def test_nuclei_sit_on_dna(tiny):
    root, config, load_data = tiny
    nuclei = pd.read_csv(root / "nuclei.csv")
    assert nuclei.Nuclei_Location_Center_X.between(0, config.site_size - 1).all()
    assert nuclei.Nuclei_Location_Center_Y.between(0, config.site_size - 1).all()
    assert (nuclei.groupby(SITE_KEYS).Metadata_ObjectNumber.min() == 1).all()
    assert len(nuclei.groupby(SITE_KEYS)) == len(load_data)  # every field has cells
    for _, row in load_data.sample(40, random_state=1).iterrows():
        dna = _read(root, row, "DNA").astype(float)
        site = nuclei.merge(row[SITE_KEYS].to_frame().T, on=SITE_KEYS)
        at_centre = dna[
            np.rint(site.Nuclei_Location_Center_Y).astype(int), np.rint(site.Nuclei_Location_Center_X).astype(int)
        ]
        background, bright = np.percentile(dna, [5, 99.5])
        assert (at_centre > background + 0.1 * (bright - background)).all()


def test_ground_truth_dose_response(tiny):
    root, _, _ = tiny
    truth = pd.read_csv(root / "compounds.csv")
    strength = truth[[f"strength_dose_{k}" for k in range(1, 7)]].to_numpy()
    assert (np.diff(strength, axis=1) >= 0).all() and (strength[:, :2] < 0.2).all()
    late = truth.late_responder.to_numpy()
    assert (strength[~late, -1] > 0.7).all() and (strength[late, :-1] < 0.1).all() and (strength[late, -1] > 0.3).all()


def test_planted_effects_are_read_back(tiny, tmp_path):
    root, config, _ = tiny
    planted = planted_cellpainting_effects(root)
    assert len(planted["phenotypes"]) == config.n_moas and planted["phenotypes"].abs().max().min() >= 0.05
    hdac = planted["phenotypes"].loc["HDAC inhibitor"]
    assert hdac["nucleus_size"] > 0.2 and hdac["chromatin_condensation"] < -0.5  # shape and pattern, not brightness
    looks = planted["looks"]["looks like"]
    assert list(looks.index) == list(planted["phenotypes"].index)
    assert "smooth, decondensed chromatin" in looks["HDAC inhibitor"]
    assert "ER collapsed around the nucleus" in looks["proteasome inhibitor"]
    dose = planted["dose_response"]
    assert (
        list(dose.columns) == list(range(1, len(config.doses_um) + 1))
        and (dose.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    )
    plates = planted["plates"]
    assert len(plates) == len(config.batches) * config.plates_per_batch
    assert {"gain_DNA", "background_Mito", "blur_sigma_px", "cell_size_factor"} <= set(plates.columns)
    with pytest.raises(FileNotFoundError, match="compounds.csv"):
        planted_cellpainting_effects(tmp_path)


def test_measurable_dose_response(tiny):
    """DNA area per nucleus, relative to DMSO on the same plate, grows with dose for a nucleus-enlarging compound."""
    root, _, load_data = tiny
    truth = pd.read_csv(root / "compounds.csv")
    active = truth[~truth.late_responder]
    compound = active.loc[active.effect_nucleus_size.idxmax(), "Metadata_broad_sample"]
    counts = pd.read_csv(root / "nuclei.csv").groupby(SITE_KEYS).size().rename("n")
    sites = load_data.join(counts, on=SITE_KEYS)
    ratios: dict[int, list[float]] = {}
    for _, plate in sites.groupby("Metadata_Plate"):
        dmso = plate[plate.Metadata_pert_type == "control"]
        threshold = 0.3 * np.median([np.percentile(_read(root, row, "DNA"), 99) for _, row in dmso.iterrows()])
        area = {i: (_read(root, row, "DNA") > threshold).sum() / row.n for i, row in plate.iterrows()}
        baseline = np.mean([area[i] for i in dmso.index])
        for i, row in plate[plate.Metadata_broad_sample == compound].iterrows():
            ratios.setdefault(row.Metadata_dose_recode, []).append(area[i] / baseline)
    low = np.mean(ratios[1] + ratios[2])
    high = np.mean(ratios[5] + ratios[6])
    assert 0.7 < low < 1.35
    assert high > 1.5 and high > low + 0.4


def test_deterministic(tiny, tmp_path):
    root, config, load_data = tiny
    again = generate_cellpainting(tmp_path, config)
    pd.testing.assert_frame_equal(again, load_data)
    assert _digest(tmp_path) == _digest(root)


def test_seed_changes_data(tmp_path):
    small = {"n_moas": 8, "doses_um": (10.0,), "dmso_wells_per_plate": 2, "plates_per_batch": 1}
    first = generate_cellpainting(tmp_path / "a", cellpainting_preset("tiny", seed=1, **small))
    second = generate_cellpainting(tmp_path / "b", cellpainting_preset("tiny", seed=2, **small))
    assert not first.Metadata_Well.equals(second.Metadata_Well)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"batches": ()}, "batches"),
        ({"batches": "batch1"}, "batches"),
        ({"batches": ("a", "a")}, "batches"),
        ({"plates_per_batch": 0}, "plates_per_batch"),
        ({"n_moas": 7}, "n_moas"),
        ({"n_moas": 99}, "n_moas"),
        ({"compounds_per_moa": 2}, "compounds_per_moa"),
        ({"doses_um": (1.0, 0.5)}, "doses_um"),
        ({"doses_um": (0.0, 1.0)}, "doses_um"),
        ({"doses_um": ()}, "doses_um"),
        ({"dmso_wells_per_plate": 0}, "dmso_wells_per_plate"),
        ({"sites_per_well": 0}, "sites_per_well"),
        ({"site_size": 16}, "site_size"),
        ({"site_size": 64.0}, "site_size"),
        ({"cells_per_site": (5, 2)}, "cells_per_site"),
        ({"cells_per_site": (0, 2)}, "cells_per_site"),
        ({"cells_per_site": (1, 2, 3)}, "cells_per_site"),
        ({"seed": 1.5}, "seed"),
        ({"compounds_per_moa": 20}, "compounds_per_moa"),
    ],
)
def test_invalid_config_names_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        CellPaintingSyntheticConfig(**overrides)


def test_presets_take_yaml_values():
    config = cellpainting_preset("tiny", batches=["2017_12_05_Batch2"], cells_per_site=[2, 3], doses_um=[1, 10.0])
    assert config.batches == ("2017_12_05_Batch2",) and config.cells_per_site == (2, 3)
    assert config == cellpainting_preset(
        "tiny", batches=("2017_12_05_Batch2",), cells_per_site=(2, 3), doses_um=(1, 10.0)
    )
    assert asdict(cellpainting_preset("default"))["doses_um"] == LINCS_DOSES_UM
    assert cellpainting_preset("default").n_wells == 8 * 3 * 6 + 24
    with pytest.raises(ValueError, match="huge"):
        cellpainting_preset("huge")
    with pytest.raises(ValueError, match="n_plates"):
        cellpainting_preset("tiny", n_plates=3)


def test_broad_ids_are_unique(tiny):
    root, _, _ = tiny
    truth = pd.read_csv(root / "compounds.csv")
    assert truth.Metadata_broad_sample.is_unique and truth.Metadata_pert_iname.is_unique
    assert all(re.fullmatch(r"BRD-K\d{8}-\d{3}-\d{2}-\d", b) for b in truth.Metadata_broad_sample)
