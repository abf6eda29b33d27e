"""Synthetic LINCS-style Cell Painting screen on disk, with known ground truth.

A549-like cells in five channels (DNA, ER, RNA, AGP, Mito) on 384-well plates, written in the
CellProfiler ``load_data.csv`` convention of the Cell Painting Gallery (cpg0004-lincs). Compounds of
known mechanism of action (MoA) act through MoA-specific phenotypes along a Hill dose response; batches
and plates differ in stain gain, background, illumination, blur, noise and cell size, so that cells
cluster by batch before correction (supplement, Figure C panel B; Table D uses the MoA labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from celldino_utils.io.channels import CELLPAINTING
from celldino_utils.io.files import LOAD_DATA_CSV, NUCLEI_CSV
from celldino_utils.io.published import LINCS_DOSES_UM
from celldino_utils.synthetic._cellpainting_phenotypes import (
    KNOBS,
    MAX_NUCLEI,
    MOA_NAMES,
    build_compounds,
    describe_phenotype,
    draw_cells,
    place_cells,
    render_stains,
)
from celldino_utils.synthetic._draw import camera_noise, gaussian_blur, illumination_field
from celldino_utils.synthetic._presets import config_from_preset

LINCS_BATCHES: tuple[str, ...] = ("2016_04_01_a549_48hr_batch1", "2017_12_05_Batch2")
_ROWS, _COLS = "ABCDEFGHIJKLMNOP", 24  # 384-well plate
_FAR = np.float32(1e3)  # normalised distance of pixels far from a shape
_LEVELS = np.array([9000.0, 4200.0, 4500.0, 4200.0, 5000.0])  # counts of a bright structure, DNA..Mito


@dataclass(frozen=True)
class CellPaintingSyntheticConfig:
    """Size and seed of a synthetic Cell Painting screen; plain types so YAML profiles map onto it.

    Attributes
    ----------
    batches : tuple of str
        Batch names (``Metadata_Batch``); every batch has its own technical and biological effects.
    plates_per_batch : int
        384-well plates per batch; each holds every compound at every dose once plus the DMSO wells.
    n_moas : int
        Number of MoAs, 8 to 12, taken in the order of ``MOA_NAMES``.
    compounds_per_moa : int
        Compounds per MoA (>= 3).
    doses_um : tuple of float
        Doses in µM, increasing; dose ``k`` gets ``Metadata_dose_recode`` ``k + 1`` (LINCS: 6 doses).
    dmso_wells_per_plate : int
        DMSO control wells per plate (sphering needs more of them than profile dimensions).
    sites_per_well : int
        Fields of view per well.
    site_size : int
        Side of a field of view in pixels (>= 48).
    cells_per_site : tuple of int
        Range (low, high) of the number of cells seeded per DMSO field; toxic compounds lower it.
    seed : int
        Seed of everything; the same config writes identical files.
    """

    batches: tuple[str, ...] = LINCS_BATCHES
    plates_per_batch: int = 2
    n_moas: int = 8
    compounds_per_moa: int = 3
    doses_um: tuple[float, ...] = LINCS_DOSES_UM
    dmso_wells_per_plate: int = 24
    sites_per_well: int = 1
    site_size: int = 96
    cells_per_site: tuple[int, int] = (8, 16)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("batches", "doses_um", "cells_per_site"):  # YAML gives lists
            value = getattr(self, name)
            if isinstance(value, str) or not hasattr(value, "__iter__"):
                raise ValueError(f"CellPaintingSyntheticConfig.{name} must be {_RULES[name]}, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        _validate(self)

    @property
    def n_wells(self) -> int:
        """Wells used per plate."""
        return self.n_moas * self.compounds_per_moa * len(self.doses_um) + self.dmso_wells_per_plate


def _int_at_least(value: object, low: int) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= low


def _validate(cfg: CellPaintingSyntheticConfig) -> None:
    """Raise ValueError naming the first invalid field of ``cfg``."""
    batches, doses, cells = cfg.batches, cfg.doses_um, cfg.cells_per_site
    rules = [
        ("batches", all(isinstance(b, str) and b for b in batches) and 0 < len(set(batches)) == len(batches)),
        ("plates_per_batch", _int_at_least(cfg.plates_per_batch, 1)),
        ("n_moas", _int_at_least(cfg.n_moas, 8) and cfg.n_moas <= len(MOA_NAMES)),
        ("compounds_per_moa", _int_at_least(cfg.compounds_per_moa, 3)),
        ("doses_um", all(isinstance(d, int | float) and d > 0 for d in doses) and [*doses] == sorted({*doses})),
        ("doses_um", len(doses) > 0),
        ("dmso_wells_per_plate", _int_at_least(cfg.dmso_wells_per_plate, 1)),
        ("sites_per_well", _int_at_least(cfg.sites_per_well, 1)),
        ("site_size", _int_at_least(cfg.site_size, 48)),
        ("cells_per_site", len(cells) == 2 and _int_at_least(cells[0], 1) and _int_at_least(cells[1], cells[0])),
        ("seed", _int_at_least(cfg.seed, 0)),
    ]
    for name, ok in rules:
        if not ok:
            raise ValueError(f"CellPaintingSyntheticConfig.{name} must be {_RULES[name]}, got {getattr(cfg, name)!r}")
    if cfg.n_wells > len(_ROWS) * _COLS:
        raise ValueError(
            f"CellPaintingSyntheticConfig: n_moas * compounds_per_moa * len(doses_um) + dmso_wells_per_plate "
            f"= {cfg.n_wells} wells do not fit a 384-well plate"
        )


_RULES = {
    "batches": "a non-empty sequence of distinct, non-empty names",
    "plates_per_batch": "an int >= 1",
    "n_moas": f"an int from 8 to {len(MOA_NAMES)}",
    "compounds_per_moa": "an int >= 3",
    "doses_um": "a non-empty sequence of positive, strictly increasing numbers",
    "dmso_wells_per_plate": "an int >= 1",
    "sites_per_well": "an int >= 1",
    "site_size": "an int >= 48 (pixels)",
    "cells_per_site": "a pair of ints (low, high) with 1 <= low <= high",
    "seed": "an int >= 0",
}


#: Named presets: ``tiny`` for tests (a few seconds), ``default`` for the main synthetic run.
CELLPAINTING_PRESETS: dict[str, dict[str, object]] = {
    "tiny": {
        "batches": LINCS_BATCHES[:1],
        "plates_per_batch": 2,
        "dmso_wells_per_plate": 8,
        "site_size": 64,
        "cells_per_site": (3, 5),
    },
    "default": {},
}


def cellpainting_preset(name: str, **overrides: object) -> CellPaintingSyntheticConfig:
    """Return the preset config ``name`` (see ``CELLPAINTING_PRESETS``) with ``overrides`` applied."""
    return config_from_preset(CellPaintingSyntheticConfig, CELLPAINTING_PRESETS, name, overrides, kind="Cell Painting")


@dataclass(frozen=True)
class _Imaging:
    """Technical and biological state of one plate (its batch's effects combined with its own)."""

    gain: np.ndarray  # (5,) channel gain
    background: np.ndarray  # (5,) background counts before illumination
    illumination: np.ndarray  # (5, H, W) ramp and vignetting, about 1
    cyto_stain: np.ndarray  # (5,) non-specific cytoplasmic staining, relative to a bright structure
    blur: float  # Gaussian PSF sigma in pixels
    shot: float  # shot-noise variance per count
    read: float  # read-noise sigma in counts
    size_factor: float  # cell and nucleus radius multiplier


def _draw_batch(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Batch effects: a strong shift of every technical and biological factor."""
    return {
        "gain": rng.lognormal(0.0, 0.3, 5),
        "background": rng.uniform(150.0, 600.0, 5),
        "ramp": np.array([rng.uniform(0.0, 2 * np.pi), rng.uniform(0.05, 0.3)]),
        "vignette": rng.uniform(0.1, 0.45) * rng.uniform(0.8, 1.2, 5),
        "cyto_stain": rng.uniform(0.0, 0.3, 5) * [0.25, 1.0, 1.0, 1.0, 1.0],  # Hoechst stains little cytoplasm
        "blur": rng.uniform(0.3, 0.75, 1),  # a PSF of under a tenth of a nucleus radius
        "shot": rng.uniform(0.8, 3.0, 1),
        "read": rng.uniform(8.0, 25.0, 1),
        "size_factor": rng.lognormal(0.0, 0.1, 1),
    }


def _draw_plate(batch: dict[str, np.ndarray], size: int, rng: np.random.Generator) -> _Imaging:
    """Combine the batch effects with smaller plate effects, and render the plate's illumination fields."""
    angle, strength = batch["ramp"][0] + rng.normal(0.0, 0.2), batch["ramp"][1] * rng.lognormal(0.0, 0.1)
    vignette = np.clip(batch["vignette"] + rng.normal(0.0, 0.04, 5), 0.0, 0.7)
    fields = [illumination_field((size, size), angle=angle, strength=strength, vignetting=v) for v in vignette]
    return _Imaging(
        gain=batch["gain"] * rng.lognormal(0.0, 0.1, 5),
        background=batch["background"] * rng.lognormal(0.0, 0.15, 5),
        illumination=np.stack(fields),
        cyto_stain=np.clip(batch["cyto_stain"] + rng.normal(0.0, 0.03, 5), 0.0, None),
        blur=float(max(batch["blur"][0] + rng.normal(0.0, 0.06), 0.25)),
        shot=float(batch["shot"][0] * rng.lognormal(0.0, 0.1)),
        read=float(batch["read"][0]),
        size_factor=float(batch["size_factor"][0] * rng.lognormal(0.0, 0.03)),
    )


def _imaging_row(batch: str, plate: str, imaging: _Imaging) -> dict[str, object]:
    """One row of ``plates.csv``: the technical and biological effects a plate's images were made with."""
    row: dict[str, object] = {"Metadata_Batch": batch, "Metadata_Plate": plate}
    for c, tag in enumerate(CELLPAINTING.file_tags):
        row |= {f"gain_{tag}": float(imaging.gain[c]), f"background_{tag}": float(imaging.background[c])}
        row |= {f"cyto_stain_{tag}": float(imaging.cyto_stain[c])}
        low, high = float(imaging.illumination[c].min()), float(imaging.illumination[c].max())
        row |= {f"illumination_min_{tag}": low, f"illumination_max_{tag}": high}
    row |= {"blur_sigma_px": imaging.blur, "shot_noise": imaging.shot, "read_noise": imaging.read}
    return row | {"cell_size_factor": imaging.size_factor}


def _plate_layout(compounds: pd.DataFrame, cfg: CellPaintingSyntheticConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Wells of one plate: every compound at every dose once plus the DMSO wells, at random positions.

    Returns a frame sorted by well with the ``Metadata_*`` perturbation columns, ``compound`` (row of
    ``compounds``, -1 for DMSO) and ``strength`` (fraction of the compound's effect at that dose).
    """
    rows = []
    for c, cpd in compounds.iterrows():
        for k, dose in enumerate(cfg.doses_um):
            meta = {key: cpd[key] for key in ("Metadata_broad_sample", "Metadata_pert_iname", "Metadata_moa")}
            rows.append(meta | {"Metadata_mmoles_per_liter": dose, "Metadata_dose_recode": k + 1})
            rows[-1] |= {"Metadata_pert_type": "trt", "compound": c, "strength": cpd[f"strength_dose_{k + 1}"]}
    dmso = {"Metadata_broad_sample": "DMSO", "Metadata_pert_iname": "DMSO", "Metadata_moa": "control"}
    dmso |= {"Metadata_mmoles_per_liter": 0.0, "Metadata_dose_recode": 0, "Metadata_pert_type": "control"}
    rows += [dmso | {"compound": -1, "strength": 0.0}] * cfg.dmso_wells_per_plate
    wells = [f"{r}{c:02d}" for r in _ROWS for c in range(1, _COLS + 1)]
    layout = pd.DataFrame(rows)
    layout.insert(0, "Metadata_Well", [wells[i] for i in rng.permutation(len(wells))[: len(layout)]])
    return layout.sort_values("Metadata_Well", ignore_index=True)


def _outline_distance(dx: np.ndarray, dy: np.ndarray, shape: dict[str, float | np.ndarray]) -> np.ndarray:
    """Normalised distance (1 on the outline) of pixel offsets ``dx, dy`` (h, w) from a shape's centre.

    The shape is an ellipse of mean ``radius``, axis ratio ``aspect`` and orientation ``angle`` whose outline
    is modulated by the 2nd to 4th angular harmonics, ``harmonics`` (3, 2) cosine and sine amplitudes.
    """
    stretch, cos, sin = np.sqrt(shape["aspect"]), np.cos(shape["angle"]), np.sin(shape["angle"])
    u, v = (dx * cos + dy * sin) / stretch, (dy * cos - dx * sin) * stretch
    dist = np.hypot(u, v) + 1e-3
    z = (u + 1j * v) / dist
    outline = np.ones_like(dist)
    for k, (a, b) in enumerate(shape["harmonics"], start=2):
        z_k = z**k
        outline += a * z_k.real + b * z_k.imag
    return dist / (shape["radius"] * np.maximum(outline, 0.5))


def _geometry(cells: dict[str, np.ndarray], size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Cell territories and per-pixel coordinates of a site, each of shape (H, W).

    ``label`` is the cell owning the pixel, ``rho`` the normalised distance to its outline (< 1 inside),
    ``rho2`` the same for the runner-up cell (touching cells share a membrane where ``rho / rho2`` is 1),
    ``nu`` the normalised distance to the outline of the owner's nearest nucleus (a cell may have several, with
    outlines as irregular as its ``irregularity``); far from any cell all are ``_FAR``.
    """
    n = len(cells["x"])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    smooth = np.where(cells["round"], 0.2, 1.0)[:, None, None]
    cell_harmonics = rng.normal(0.0, 0.06, (n, 3, 2)) * smooth
    nucleus_harmonics = (
        rng.normal(0.0, 0.03, (n, MAX_NUCLEI, 3, 2)) * (smooth * cells["irregularity"][:, None, None])[:, None]
    )
    nucleus_angle = cells["angle"][:, None] + rng.normal(0.0, 0.2, (n, MAX_NUCLEI))
    rho, boxes = np.full((max(n, 2), size, size), _FAR, dtype=np.float32), []
    for i in range(n):
        reach = 2.4 * cells["radius"][i] * np.sqrt(cells["aspect"][i])  # rho >= 1.6 outside this box
        y, x = cells["y"][i], cells["x"][i]
        box = (slice(max(int(y - reach), 0), int(y + reach) + 2), slice(max(int(x - reach), 0), int(x + reach) + 2))
        outline = {key: cells[key][i] for key in ("radius", "aspect", "angle")} | {"harmonics": cell_harmonics[i]}
        rho[i][box] = _outline_distance(xx[box] - x, yy[box] - y, outline)
        boxes.append(box)
    label = rho.argmin(axis=0)
    nu = np.full((size, size), _FAR, dtype=np.float32)
    for i, box in enumerate(boxes):
        mine = label[box] == i
        for j in range(int(cells["n_nuclei"][i])):
            nucleus = {"radius": cells["nucleus_radius"][i], "aspect": np.sqrt(cells["aspect"][i])}
            nucleus |= {"angle": nucleus_angle[i, j], "harmonics": nucleus_harmonics[i, j]}
            dx, dy = xx[box] - cells["nuclei_x"][i, j], yy[box] - cells["nuclei_y"][i, j]
            nu[box][mine] = np.minimum(nu[box][mine], _outline_distance(dx, dy, nucleus)[mine])
    return {
        "label": label,
        "rho": np.take_along_axis(rho, label[None], axis=0)[0],
        "rho2": np.partition(rho, 1, axis=0)[1],
        "nu": nu,
        "xx": xx,
        "yy": yy,
    }


def _acquire(signal: np.ndarray, imaging: _Imaging, *, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Image the stain density (5, H, W): gain, blur, background, vignetting and noise; return uint16 counts."""
    blur = max(imaging.blur + rng.normal(0.0, 0.06), 0.25)  # focus varies from site to site
    counts = np.stack([gaussian_blur(channel, blur) for channel in signal])
    counts *= (_LEVELS * imaging.gain * gain)[:, None, None]
    counts = (counts + imaging.background[:, None, None]) * imaging.illumination + 100.0  # 100 = camera offset
    counts = camera_noise(counts, rng=rng, photons=1.0 / imaging.shot, read_sd=imaging.read)
    return np.clip(np.rint(counts), 0, 65535).astype(np.uint16)


def _render_site(
    effect: np.ndarray, n_cells: int, imaging: _Imaging, *, size: int, gain: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Render one field of view; return the image (5, H, W) uint16 and nucleus centres (n, 2) as (x, y)."""
    cells = place_cells(draw_cells(effect, n_cells, size_factor=imaging.size_factor, rng=rng), size, rng)
    geom = _geometry(cells, size, rng)
    signal = render_stains(cells, geom, rng=rng) + imaging.cyto_stain[:, None, None] * (geom["rho"] < 1.0)
    image = _acquire(signal, imaging, gain=gain, rng=rng)
    return image, np.stack([cells["nx"], cells["ny"]], axis=1)


def _site_state(
    well: pd.Series, effects: np.ndarray, *, cfg: CellPaintingSyntheticConfig, rng: np.random.Generator
) -> tuple[np.ndarray, int, float]:
    """Knob effects (len(KNOBS),), number of seeded cells and gain of one site of ``well``."""
    effect = np.zeros(len(KNOBS))
    if well.compound >= 0:
        effect = effects[well.compound] * well.strength * rng.lognormal(0.0, 0.1)  # replicate variation
    edge = well.Metadata_Well[0] in (_ROWS[0], _ROWS[-1]) or int(well.Metadata_Well[1:]) in (1, _COLS)
    seeded = rng.integers(cfg.cells_per_site[0], cfg.cells_per_site[1] + 1) * np.exp(effect[KNOBS.index("cell_count")])
    n_cells = max(round(seeded * (0.8 if edge else 1.0)), 1)  # edge wells: fewer cells, brighter stain
    return effect, n_cells, 1.1 if edge else 1.0


def _plate_sites(
    out_dir: Path,
    layout: pd.DataFrame,
    effects: np.ndarray,
    imaging: _Imaging,
    *,
    cfg: CellPaintingSyntheticConfig,
    names: tuple[str, str],
    key: tuple[int, int],
) -> tuple[list[dict], list[dict]]:
    """Render and write every site of one plate; return its ``load_data`` rows and ``nuclei`` rows."""
    batch, plate = names
    folder = Path("images") / batch / plate
    (out_dir / folder).mkdir(parents=True, exist_ok=True)
    perturbation = [c for c in layout.columns if c.startswith("Metadata_") and c != "Metadata_Well"]
    rows, nuclei = [], []
    for w, well in layout.iterrows():
        for site in range(1, cfg.sites_per_well + 1):
            rng = np.random.default_rng([cfg.seed, 4, *key, w, site])
            effect, n_cells, gain = _site_state(well, effects, cfg=cfg, rng=rng)
            image, centres = _render_site(effect, n_cells, imaging, size=cfg.site_size, gain=gain, rng=rng)
            meta = {"Metadata_Plate": plate, "Metadata_Well": well.Metadata_Well, "Metadata_Site": site}
            row = {"Metadata_Batch": batch} | meta | {c: well[c] for c in perturbation}
            for channel, tag in zip(image, CELLPAINTING.file_tags, strict=True):
                name = f"{well.Metadata_Well}_s{site}_{tag}.tiff"
                tifffile.imwrite(out_dir / folder / name, channel)
                row |= {f"FileName_Orig{tag}": name, f"PathName_Orig{tag}": folder.as_posix()}
            rows.append(row)
            nuclei += [
                meta | {"Metadata_ObjectNumber": j + 1, "Nuclei_Location_Center_X": x, "Nuclei_Location_Center_Y": y}
                for j, (x, y) in enumerate(centres)
            ]
    return rows, nuclei


def generate_cellpainting(out_dir: str | Path, config: CellPaintingSyntheticConfig) -> pd.DataFrame:
    """Write a synthetic LINCS-style Cell Painting screen with known ground truth.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created; files of an earlier run with the same names are overwritten). It receives
        ``images/{Metadata_Batch}/{Metadata_Plate}/{Metadata_Well}_s{Metadata_Site}_{channel}.tiff``
        (one uint16 TIFF per channel DNA, ER, RNA, AGP, Mito), ``load_data.csv`` (one row per site),
        ``nuclei.csv`` (one row per cell: ``Nuclei_Location_Center_X/Y`` in pixels), ``compounds.csv``
        (ground truth per compound: MoA, ``ec50_um``, ``hill``, ``strength_dose_{k}``, ``effect_{knob}``) and
        ``plates.csv`` (each plate's effects: channel gain, background and non-specific cytoplasmic stain,
        illumination range, blur, noise, cell size factor).
    config : CellPaintingSyntheticConfig
        Size and seed; the same config gives identical files.

    Returns
    -------
    pandas.DataFrame
        The ``load_data.csv`` table: ``Metadata_Batch, Metadata_Plate, Metadata_Well, Metadata_Site``, the
        perturbation columns (``Metadata_broad_sample`` ... ``Metadata_pert_type``; DMSO rows have
        ``Metadata_pert_type == "control"`` and ``Metadata_dose_recode == 0``) and
        ``FileName_Orig{channel}, PathName_Orig{channel}`` with paths relative to ``out_dir``.

    Notes
    -----
    As in the LINCS platemaps, ``Metadata_mmoles_per_liter`` holds the dose in µM; ``Metadata_dose_recode``
    is the dose's rank in ``config.doses_um`` (1..6 for the LINCS doses). Every site draws from its own
    seeded generator, so a site's pixels depend only on the seed and its batch, plate, well and site.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    compounds, effects = build_compounds(
        config.n_moas, config.compounds_per_moa, config.doses_um, rng=np.random.default_rng([config.seed, 0])
    )
    rows, nuclei, plates = [], [], []
    for b, batch in enumerate(config.batches):
        batch_effects = _draw_batch(np.random.default_rng([config.seed, 1, b]))
        for p in range(config.plates_per_batch):
            plate = f"SQ{14812 + b * config.plates_per_batch + p:08d}"  # LINCS-style plate barcode
            imaging = _draw_plate(batch_effects, config.site_size, np.random.default_rng([config.seed, 2, b, p]))
            plates.append(_imaging_row(batch, plate, imaging))
            layout = _plate_layout(compounds, config, np.random.default_rng([config.seed, 3, b, p]))
            plate_rows, plate_nuclei = _plate_sites(
                out, layout, effects, imaging, cfg=config, names=(batch, plate), key=(b, p)
            )
            rows += plate_rows
            nuclei += plate_nuclei
    load_data = pd.DataFrame(rows)
    load_data.to_csv(out / LOAD_DATA_CSV, index=False)
    pd.DataFrame(nuclei).to_csv(out / NUCLEI_CSV, index=False)
    compounds.to_csv(out / "compounds.csv", index=False)
    pd.DataFrame(plates).to_csv(out / "plates.csv", index=False)
    return load_data


def planted_cellpainting_effects(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    """What a synthetic screen in ``data_dir`` was made with, from its ``compounds.csv`` and ``plates.csv``.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``phenotypes``: MoA x knob, the mean over the MoA's compounds of the effect at full strength (size,
        count, organisation and intensity knobs are natural-log factors, 0.4 is about x1.5; the fraction knobs
        are extra fractions of affected cells); knobs no MoA moves by 0.05 or more are left out.
        ``looks``: one row per MoA, its shape and pattern changes in words (``describe_phenotype``).
        ``dose_response``: MoA x ``Metadata_dose_recode``, the mean fraction of that effect seen at each dose.
        ``plates``: one row per plate, its technical and biological effects (``plates.csv``).

    Raises
    ------
    FileNotFoundError
        Naming the file, for a folder that this generator did not write (real data have no planted truth).
    """
    data_dir = Path(data_dir)
    for name in ("compounds.csv", "plates.csv"):
        if not (data_dir / name).is_file():
            raise FileNotFoundError(
                f"{data_dir / name}: not found; only synthetic screens record their planted effects"
            )
    compounds = pd.read_csv(data_dir / "compounds.csv")
    effects = compounds.groupby("Metadata_moa")[[f"effect_{knob}" for knob in KNOBS]].mean()
    effects.columns = list(KNOBS)
    phenotypes = effects.loc[:, effects.abs().max() >= 0.05].round(2)
    strengths = [c for c in compounds if c.startswith("strength_dose_")]
    dose_response = compounds.groupby("Metadata_moa")[strengths].mean().round(2)
    dose_response.columns = pd.Index([int(c.rsplit("_", 1)[1]) for c in strengths], name="Metadata_dose_recode")
    looks = phenotypes.apply(describe_phenotype, axis=1).rename("looks like").to_frame()
    return {
        "phenotypes": phenotypes,
        "looks": looks,
        "dose_response": dose_response,
        "plates": pd.read_csv(data_dir / "plates.csv"),
    }
