"""Biology of the synthetic Cell Painting screen: MoA phenotypes, compounds, dose responses, cells and stains.

Each mechanism of action (MoA) has a prototype: a few phenotype knobs moved away from the DMSO state
(0 everywhere). A compound scales and perturbs its MoA's prototype; a Hill curve in the dose gives the
fraction of that effect seen at each dose. ``draw_cells`` turns a well's knobs into per-cell morphology and
stain levels and ``render_stains`` draws them; ``cellpainting.py`` places the cells and images them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from celldino_utils.synthetic._draw import reticular_network, smooth_noise

#: Phenotype knobs. Size, count and intensity knobs are natural-log factors (0.4 is about x1.5); the fraction knobs
#: (``FRACTION_KNOBS``) are extra fractions of affected cells; the organisation knobs (``chromatin_condensation``,
#: ``nucleoli_size``, ``nuclear_irregularity``, ``er_collapse``, ``mito_clustering``, ``actin_fibres``) are
#: natural-log factors of a length or an amplitude: positive condenses, enlarges, collapses or strengthens.
#: Intensity knobs are secondary: after per-crop self-normalisation only the shape and pattern knobs reach a model.
KNOBS: tuple[str, ...] = (
    "cell_size",
    "nucleus_size",
    "cell_count",
    "elongation",
    "rounding",
    "multinucleation",
    "micronuclei",
    "nuclear_irregularity",
    "chromatin_condensation",
    "nucleoli_size",
    "er_collapse",
    "mito_fragmentation",
    "mito_clustering",
    "actin_fibres",
    "golgi_dispersal",
    "dna_intensity",
    "er_intensity",
    "rna_intensity",
    "agp_intensity",
    "mito_intensity",
)
FRACTION_KNOBS: tuple[str, ...] = (
    "rounding",
    "multinucleation",
    "micronuclei",
    "mito_fragmentation",
    "golgi_dispersal",
)

# MoA name -> (knob effects at full strength, real compound names of that class as in LINCS pert_iname). Each MoA is
# told apart by shape and organisation, as in real Cell Painting screens; MoAs share parts of their phenotypes
# (rounding: tubulin and PLK; lost nucleoli: CDK and mTOR; enlarged nuclei: HDAC, topoisomerase and Aurora; lost
# stress fibres: HSP and HMGCR).
_MOAS: dict[str, tuple[dict[str, float], tuple[str, ...]]] = {
    "tubulin polymerization inhibitor": (
        {"rounding": 1.27, "golgi_dispersal": 1.35, "multinucleation": 0.18, "actin_fibres": -1.05, "cell_count": -0.4},
        ("colchicine", "nocodazole", "vincristine", "podophyllotoxin", "combretastatin-a-4"),
    ),
    "HDAC inhibitor": (
        {"nucleus_size": 0.45, "chromatin_condensation": -1.8, "cell_size": 0.3, "elongation": 0.9,
         "rna_intensity": 0.2},
        ("vorinostat", "panobinostat", "entinostat", "belinostat", "dacinostat"),
    ),
    "CDK inhibitor": (
        {"nucleoli_size": -1.8, "cell_size": 0.35, "actin_fibres": 1.2, "cell_count": -0.5, "er_collapse": -0.9},
        ("alvocidib", "dinaciclib", "palbociclib", "roscovitine", "AT-7519"),
    ),
    "proteasome inhibitor": (
        {"er_collapse": 1.95, "mito_clustering": 2.1, "micronuclei": 0.3, "cell_size": -0.2, "er_intensity": 0.3},
        ("bortezomib", "MG-132", "carfilzomib", "ixazomib", "delanzomib"),
    ),
    "topoisomerase inhibitor": (
        {"micronuclei": 1.27, "nuclear_irregularity": 1.95, "nucleus_size": 0.4, "cell_size": 0.35,
         "cell_count": -0.4},
        ("camptothecin", "etoposide", "topotecan", "irinotecan", "mitoxantrone"),
    ),
    "HSP inhibitor": (
        {"mito_fragmentation": 1.27, "actin_fibres": -1.2, "elongation": -0.75, "mito_clustering": -0.9},
        ("geldanamycin", "tanespimycin", "luminespib", "alvespimycin", "ganetespib"),
    ),
    "ATPase inhibitor": (
        {"cell_size": -0.45, "chromatin_condensation": 1.5, "nucleoli_size": 0.9, "elongation": -0.75,
         "mito_intensity": -0.3},
        ("ouabain", "digoxin", "proscillaridin", "cymarin", "digitoxin"),
    ),
    "mTOR inhibitor": (
        {"nucleoli_size": -1.2, "cell_size": -0.3, "mito_clustering": -1.35, "er_collapse": 0.9,
         "mito_fragmentation": -0.15},
        ("sirolimus", "everolimus", "torin-1", "AZD-8055", "temsirolimus"),
    ),
    "Aurora kinase inhibitor": (
        {"multinucleation": 1.2, "cell_size": 0.5, "nucleus_size": 0.25, "nuclear_irregularity": 0.9},
        ("alisertib", "tozasertib", "barasertib", "danusertib", "ENMD-2076"),
    ),
    "PLK inhibitor": (
        {"rounding": 0.9, "micronuclei": 0.75, "cell_count": -0.4, "chromatin_condensation": 0.75},
        ("volasertib", "BI-2536", "GSK-461364", "rigosertib", "onvansertib"),
    ),
    "glucocorticoid receptor agonist": (
        {"actin_fibres": 1.5, "elongation": 1.05, "cell_size": 0.3, "agp_intensity": 0.2},
        ("dexamethasone", "budesonide", "prednisolone", "fluocinolone", "betamethasone"),
    ),
    "HMGCR inhibitor": (
        {"elongation": -0.9, "actin_fibres": -1.2, "golgi_dispersal": 1.05, "cell_size": -0.3},
        ("simvastatin", "lovastatin", "fluvastatin", "atorvastatin", "cerivastatin"),
    ),
}  # fmt: skip

#: Names of the MoAs in the order they are used (the first ``n_moas`` are drawn).
MOA_NAMES: tuple[str, ...] = tuple(_MOAS)


def hill(dose_um: np.ndarray, *, ec50_um: float, slope: float) -> np.ndarray:
    """Fraction of the maximal effect at ``dose_um``: ``1 / (1 + (ec50 / dose) ** slope)``, 0 at dose 0."""
    dose = np.asarray(dose_um, dtype=float)
    out = np.zeros_like(dose)
    positive = dose > 0
    out[positive] = 1.0 / (1.0 + (ec50_um / dose[positive]) ** slope)
    return out


def _broad_id(rng: np.random.Generator, used: set[str]) -> str:
    """Draw an unused LINCS-style Broad sample id such as ``BRD-K12345678-001-01-1``."""
    while True:
        core = f"BRD-K{rng.integers(10**7, 10**8):08d}"
        if core not in used:
            used.add(core)
            return f"{core}-001-{rng.integers(1, 30):02d}-{rng.integers(1, 10)}"


def _compound_effect(prototype: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Effect vector of one compound, shape (len(KNOBS),): its MoA's prototype with compound-specific variation."""
    base = np.array([prototype.get(knob, 0.0) for knob in KNOBS])
    effect = base * rng.lognormal(0.0, 0.2, size=base.shape) * rng.uniform(0.8, 1.25)
    off_target = rng.normal(0.0, 0.06, size=base.shape)
    fraction = np.isin(KNOBS, FRACTION_KNOBS)
    off_target[fraction] = np.abs(off_target[fraction]) * 0.5
    return effect + off_target


def _potency(rng: np.random.Generator) -> tuple[float, float, bool]:
    """Draw (ec50 in µM, Hill slope, late) where a late compound acts only at the top LINCS dose."""
    late = bool(rng.random() < 0.25)
    if late:
        return float(rng.uniform(6.0, 9.0)), float(rng.uniform(4.5, 6.0)), late
    return float(np.exp(rng.uniform(np.log(0.5), np.log(3.0)))), float(rng.uniform(1.2, 2.5)), late


def build_compounds(
    n_moas: int, compounds_per_moa: int, doses_um: tuple[float, ...], *, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw the compounds of the screen and their ground truth.

    Parameters
    ----------
    n_moas, compounds_per_moa : int
        The first ``n_moas`` entries of ``MOA_NAMES`` are used, each with ``compounds_per_moa`` compounds.
        Compounds past the named ones of a class are named by their Broad id, as unnamed LINCS compounds are.
    doses_um : tuple of float
        Doses in µM; dose ``k`` (0-based) gets ``Metadata_dose_recode`` ``k + 1``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    compounds : pandas.DataFrame
        One row per compound: ``Metadata_broad_sample, Metadata_pert_iname, Metadata_moa, ec50_um, hill,
        late_responder``, ``strength_dose_{k}`` (fraction of the effect at dose recode k) and
        ``effect_{knob}`` (effect at full strength, see ``KNOBS``).
    effects : numpy.ndarray
        Shape (n_compounds, len(KNOBS)), the ``effect_*`` columns as an array.
    """
    rows, effects, used = [], [], set()
    for moa in MOA_NAMES[:n_moas]:
        prototype, names = _MOAS[moa]
        for k in range(compounds_per_moa):
            broad = _broad_id(rng, used)
            ec50, slope, late = _potency(rng)
            effect = _compound_effect(prototype, rng)
            row = {
                "Metadata_broad_sample": broad,
                "Metadata_pert_iname": names[k] if k < len(names) else broad[:13],
                "Metadata_moa": moa,
                "ec50_um": ec50,
                "hill": slope,
                "late_responder": late,
            }
            strengths = hill(np.asarray(doses_um), ec50_um=ec50, slope=slope)
            row |= {f"strength_dose_{i + 1}": float(s) for i, s in enumerate(strengths)}
            row |= {f"effect_{knob}": float(e) for knob, e in zip(KNOBS, effect, strict=True)}
            rows.append(row)
            effects.append(effect)
    return pd.DataFrame(rows), np.asarray(effects)


#: Radii of a DMSO cell and its nucleus, in pixels: a whole cell fits a 32 px crop around its nucleus.
CELL_RADIUS_PX, NUCLEUS_RADIUS_PX = 10.0, 4.6
#: Most nuclei of one cell (multinucleation).
MAX_NUCLEI = 4


def draw_cells(
    effect: np.ndarray, n_cells: int, *, size_factor: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per-cell morphology, organisation and stain levels of one site, before placement.

    Parameters
    ----------
    effect : numpy.ndarray
        Shape (len(KNOBS),), the knob effects of the well (compound effect times dose strength; zeros for DMSO).
    n_cells : int
        Number of cells to draw.
    size_factor : float
        Multiplier of the cell and nucleus radii (a batch effect: cells grown under other conditions).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    dict of str to numpy.ndarray
        Arrays of shape (n_cells,): radii ``radius`` and ``nucleus_radius`` (px), ``aspect`` and ``angle``
        (radians) of the cell, ``n_nuclei``, ``n_micronuclei``, flags ``round`` (mitotic arrest) and
        ``golgi_dispersed``; organisation ``chromatin`` (texture amplitude), ``nucleoli_scale``, ``irregularity``
        (nuclear outline harmonics), ``er_reach`` and ``mito_reach`` (decay lengths from the nucleus, in nucleus
        radii), ``fibres`` and ``cortex`` (stress fibres and cortical actin), ``fibre_period`` (px),
        ``mito_fragmentation`` (fraction of punctate mitochondria); stain levels ``dna, er, rna, agp, mito``
        (1 in DMSO).
    """
    k = dict(zip(KNOBS, effect, strict=True))
    response = rng.lognormal(0.0, 0.15, size=n_cells)  # cell-to-cell heterogeneity of the response

    def factor(knob: str, noise: float) -> np.ndarray:
        return np.exp(k[knob] * response + rng.normal(0.0, noise, size=n_cells))

    def affected(knob: str, base: float) -> np.ndarray:
        return rng.random(n_cells) < np.clip(base + k[knob] * response, 0.0, 0.95)

    round_ = affected("rounding", 0.03)
    multi = ~round_ & affected("multinucleation", 0.02)
    n_nuclei = np.where(multi, rng.integers(2, MAX_NUCLEI + 1, size=n_cells), 1)
    radius = CELL_RADIUS_PX * size_factor * factor("cell_size", 0.1) * np.where(multi, 1.35, 1.0)
    nucleus = NUCLEUS_RADIUS_PX * size_factor * factor("nucleus_size", 0.08) * np.where(multi, 0.75, 1.0)
    nucleus = np.minimum(nucleus, 0.6 * radius)
    aspect = np.exp(np.clip(0.3 + k["elongation"] * response + rng.normal(0.0, 0.12, size=n_cells), 0.0, 1.3))
    fibres = factor("actin_fibres", 0.15)
    return {
        "radius": np.where(round_, 0.65 * radius, radius),
        "nucleus_radius": np.where(round_, 0.7 * nucleus, nucleus),
        "aspect": np.where(round_, 1.0, aspect),
        "angle": rng.uniform(0.0, np.pi, size=n_cells),
        "n_nuclei": n_nuclei,
        "n_micronuclei": np.where(~round_ & affected("micronuclei", 0.02), rng.integers(1, 4, size=n_cells), 0),
        "round": round_,
        "golgi_dispersed": round_ | affected("golgi_dispersal", 0.03),
        "chromatin": 0.3 * factor("chromatin_condensation", 0.1) * np.where(round_, 2.5, 1.0),
        "nucleoli_scale": factor("nucleoli_size", 0.1) * ~round_,
        "irregularity": factor("nuclear_irregularity", 0.15),
        "er_reach": 1.0 * np.exp(-k["er_collapse"] * response + rng.normal(0.0, 0.1, size=n_cells)),
        "mito_reach": 1.4 * np.exp(-k["mito_clustering"] * response + rng.normal(0.0, 0.1, size=n_cells)),
        "fibres": np.where(round_, 0.0, fibres),
        "cortex": np.where(round_, 1.6, 1.0 / np.sqrt(fibres)),
        "fibre_period": rng.uniform(3.0, 4.5, size=n_cells),
        "mito_fragmentation": np.clip(0.1 + k["mito_fragmentation"] * response + rng.normal(0, 0.05, n_cells), 0, 1),
        "dna": factor("dna_intensity", 0.1) * np.where(round_, 1.8, 1.0),
        "er": factor("er_intensity", 0.1),
        "rna": factor("rna_intensity", 0.1),
        "agp": factor("agp_intensity", 0.1),
        "mito": factor("mito_intensity", 0.1),
    }


def place_cells(cells: dict[str, np.ndarray], size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Seed cells one by one at random free positions; cells that find no room are not seeded.

    Adds ``x, y`` (cell centres), ``nx, ny`` (the centre of a cell's nuclei, inside the image: the nucleus centre
    a segmentation reports) and ``nuclei_x, nuclei_y`` ((n, MAX_NUCLEI), NaN past a cell's ``n_nuclei``) to the
    kept cells.
    """
    xs: list[float] = []
    ys: list[float] = []
    kept: list[int] = []
    for i, radius in enumerate(cells["radius"]):
        margin = 0.5 * cells["nucleus_radius"][i] + 1.0
        candidates = rng.uniform(margin, size - 1 - margin, size=(40, 2))
        if kept:
            gap = np.hypot(candidates[:, :1] - np.array(xs), candidates[:, 1:] - np.array(ys))
            free = (gap >= 0.6 * (radius + cells["radius"][kept])).all(axis=1)
            if not free.any():
                continue
            candidates = candidates[free]
        xs.append(float(candidates[0, 0]))
        ys.append(float(candidates[0, 1]))
        kept.append(i)
    placed = {key: value[kept] for key, value in cells.items()}
    placed["x"], placed["y"] = np.array(xs), np.array(ys)
    n = len(kept)
    offset = rng.uniform(0.0, 0.12, n) * placed["radius"]
    direction = rng.uniform(0.0, 2 * np.pi, n)
    placed["nx"] = np.clip(placed["x"] + offset * np.cos(direction), 1.0, size - 2.0)
    placed["ny"] = np.clip(placed["y"] + offset * np.sin(direction), 1.0, size - 2.0)
    # several nuclei of one cell sit on a ring around its centre, about one nucleus diameter apart
    spokes = direction[:, None] + 2 * np.pi * np.arange(MAX_NUCLEI)[None, :] / placed["n_nuclei"][:, None]
    ring = np.where(placed["n_nuclei"] > 1, 1.05 * placed["nucleus_radius"], 0.0)[:, None]
    present = np.arange(MAX_NUCLEI)[None, :] < placed["n_nuclei"][:, None]
    placed["nuclei_x"] = np.where(present, placed["nx"][:, None] + ring * np.cos(spokes), np.nan)
    placed["nuclei_y"] = np.where(present, placed["ny"][:, None] + ring * np.sin(spokes), np.nan)
    return placed


def _blobs(label: np.ndarray, blobs: list[tuple[int, float, float, float, float]], *, power: int) -> np.ndarray:
    """Sum of blobs ``(cell, x, y, radius, amp)``: ``amp * exp(-(d / radius) ** (2 * power))`` inside ``cell``."""
    out = np.zeros(label.shape, dtype=np.float32)
    for cell, x, y, radius, amp in blobs:
        half = int(np.ceil(3 * radius)) + 1
        r0, r1 = max(int(y) - half, 0), min(int(y) + half + 1, label.shape[0])
        c0, c1 = max(int(x) - half, 0), min(int(x) + half + 1, label.shape[1])
        if r1 <= r0 or c1 <= c0:
            continue
        yy, xx = np.mgrid[r0:r1, c0:c1]
        d2 = ((xx - x) ** 2 + (yy - y) ** 2) / radius**2
        out[r0:r1, c0:c1] += amp * np.exp(-(d2**power)) * (label[r0:r1, c0:c1] == cell)
    return out


def _polar(x: float, y: float, angle: float, dist: float) -> tuple[float, float]:
    return x + dist * np.cos(angle), y + dist * np.sin(angle)


def _nuclear_blobs(cells: dict[str, np.ndarray], label: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Maps (H, W) of micronuclei (DNA), nucleoli (RNA) and Golgi (AGP) drawn around each cell's nuclei.

    Nucleoli sit in every nucleus, scaled by ``nucleoli_scale``; the Golgi is a compact ribbon on one side of the
    nucleus, or small elements spread over the cytoplasm where ``golgi_dispersed``.
    """
    micronuclei, nucleoli, golgi = [], [], []
    for i in range(len(cells["x"])):
        x, y, rn = cells["nx"][i], cells["ny"][i], cells["nucleus_radius"][i]
        for _ in range(int(cells["n_micronuclei"][i])):
            centre = _polar(x, y, rng.uniform(0, 2 * np.pi), rng.uniform(1.5, 2.1) * rn)
            micronuclei.append((i, *centre, rng.uniform(0.25, 0.35) * rn, cells["dna"][i]))
        scale = cells["nucleoli_scale"][i]
        for nx, ny in zip(cells["nuclei_x"][i], cells["nuclei_y"][i], strict=True):
            if np.isnan(nx) or scale == 0:
                continue
            for _ in range(rng.integers(1, 3)):
                centre = _polar(nx, ny, rng.uniform(0, 2 * np.pi), 0.4 * rn * np.sqrt(rng.uniform()))
                nucleoli.append((i, *centre, max(0.24 * rn * scale, 0.35), 1.3 * min(scale, 1.5)))
        if cells["golgi_dispersed"][i]:
            reach = cells["radius"][i]
            for _ in range(7):
                centre = _polar(x, y, rng.uniform(0, 2 * np.pi), rng.uniform(1.3 * rn, max(0.85 * reach, 1.4 * rn)))
                golgi.append((i, *centre, rng.uniform(0.5, 0.8), 0.6))
        else:
            side = rng.uniform(0, 2 * np.pi)
            for _ in range(3):
                centre = _polar(x, y, side + rng.uniform(-0.45, 0.45), 1.15 * rn + rng.uniform(0.0, 1.5))
                golgi.append((i, *centre, rng.uniform(0.8, 1.3), 0.8))
    return {
        "micronuclei": _blobs(label, micronuclei, power=2),
        "nucleoli": _blobs(label, nucleoli, power=1),
        "golgi": _blobs(label, golgi, power=1),
    }


def render_stains(cells: dict[str, np.ndarray], geom: dict[str, np.ndarray], *, rng: np.random.Generator) -> np.ndarray:
    """Noise-free stain density of one site (about 1 on a bright structure).

    Parameters
    ----------
    cells : dict of str to numpy.ndarray
        Placed cells: ``draw_cells`` output plus centres ``x, y`` and nucleus centres (``place_cells``).
    geom : dict of str to numpy.ndarray
        Per-pixel maps (H, W): owner ``label``, normalised distances ``rho`` (own cell), ``rho2`` (runner-up
        cell), ``nu`` (own nearest nucleus), and pixel coordinates ``xx, yy``.
    rng : numpy.random.Generator
        Source of randomness (textures, nucleoli, micronuclei, Golgi).

    Returns
    -------
    numpy.ndarray
        Shape (5, H, W) float32, channels DNA, ER, RNA, AGP, Mito.
    """
    label, rho, nu = geom["label"], geom["rho"], geom["nu"]
    shape = label.shape

    def per_cell(key: str) -> np.ndarray:
        return cells[key].astype(np.float32)[label]

    inside = special.expit((1.0 - rho) / 0.03)
    nucleus = (rho < 1.0) * special.expit((1.0 - nu) / 0.05)
    cyto = inside * (1.0 - nucleus)
    beyond = np.clip(nu - 1.0, 0.0, None)  # distance past the nucleus outline, in nucleus radii
    membrane = np.maximum(np.exp(-(((1.0 - rho) / 0.08) ** 2)), np.exp(-(((1.0 - rho / geom["rho2"]) / 0.06) ** 2)))
    membrane *= rho < 1.05
    envelope = np.exp(-(((nu - 1.0) / 0.15) ** 2)) * inside
    angle = per_cell("angle") + 0.08 * smooth_noise(shape, rng=rng, sigma=12.0)
    phase = (geom["xx"] * np.cos(angle) + geom["yy"] * np.sin(angle)) * (2 * np.pi) / per_cell("fibre_period")
    fibres = ((1.0 + np.cos(phase + 0.8 * smooth_noise(shape, rng=rng, sigma=8.0))) / 2.0) ** 8
    fibres *= np.clip(0.4 + 0.6 * smooth_noise(shape, rng=rng, sigma=3.0), 0.0, 1.0)  # fibres come and go
    blobs = _nuclear_blobs(cells, label, rng)
    chromatin = np.clip(1.0 + per_cell("chromatin") * smooth_noise(shape, rng=rng, sigma=0.8), 0.3, None)
    dna = per_cell("dna") * nucleus * chromatin + blobs["micronuclei"]
    er_net = reticular_network(shape, rng=rng, scale=2.5, width=0.3)
    er = per_cell("er") * (cyto * np.exp(-beyond / per_cell("er_reach")) * (0.2 + 0.9 * er_net) + 0.4 * envelope)
    rna_cyto = cyto * np.exp(-beyond / 2.0) * (1.0 + 0.3 * smooth_noise(shape, rng=rng, sigma=1.5))
    rna = per_cell("rna") * (0.25 * nucleus + 0.45 * rna_cyto) + blobs["nucleoli"]
    actin = 0.1 * inside + 0.6 * per_cell("cortex") * membrane + 0.6 * per_cell("fibres") * fibres * cyto
    agp = per_cell("agp") * actin + blobs["golgi"]
    punctate = per_cell("mito_fragmentation")
    puncta = np.clip(smooth_noise(shape, rng=rng, sigma=0.9) - 1.2, 0.0, None) / 0.8
    network = (1.0 - punctate) * reticular_network(shape, rng=rng, scale=3.5, width=0.25) + 1.4 * punctate * puncta
    mito = per_cell("mito") * cyto * np.exp(-beyond / per_cell("mito_reach")) * (0.08 + network)
    return np.clip(np.stack([dna, er, rna, agp, mito]), 0.0, None).astype(np.float32)


# What a knob moved up (+1) or down (-1) looks like under the microscope.
_LOOKS: dict[tuple[str, int], str] = {
    ("cell_size", 1): "larger, spread cells",
    ("cell_size", -1): "smaller cells",
    ("nucleus_size", 1): "enlarged nuclei",
    ("nucleus_size", -1): "smaller nuclei",
    ("cell_count", -1): "fewer cells",
    ("cell_count", 1): "more cells",
    ("elongation", 1): "elongated cells",
    ("elongation", -1): "rounder outlines",
    ("rounding", 1): "rounded mitotic cells with condensed DNA",
    ("multinucleation", 1): "cells with two to four nuclei",
    ("micronuclei", 1): "micronuclei beside the nucleus",
    ("nuclear_irregularity", 1): "lobed, irregular nuclei",
    ("chromatin_condensation", 1): "coarse, clumped chromatin",
    ("chromatin_condensation", -1): "smooth, decondensed chromatin",
    ("nucleoli_size", 1): "enlarged nucleoli",
    ("nucleoli_size", -1): "shrunken or absent nucleoli",
    ("er_collapse", 1): "ER collapsed around the nucleus",
    ("er_collapse", -1): "ER spread to the cell edge",
    ("mito_fragmentation", 1): "fragmented, punctate mitochondria",
    ("mito_fragmentation", -1): "tubular mitochondria",
    ("mito_clustering", 1): "mitochondria clustered round the nucleus",
    ("mito_clustering", -1): "mitochondria spread to the periphery",
    ("actin_fibres", 1): "stress fibres across the cell",
    ("actin_fibres", -1): "no stress fibres, a cortical actin ring",
    ("golgi_dispersal", 1): "Golgi dispersed through the cytoplasm",
}


def describe_phenotype(effects: pd.Series, *, threshold: float = 0.2) -> str:
    """The planted phenotype of one MoA in words: each shape or pattern knob it moves by ``threshold`` or more.

    Parameters
    ----------
    effects : pandas.Series
        Knob name -> effect at full strength (a row of ``planted_cellpainting_effects()["phenotypes"]``).
    threshold : float
        Smallest absolute effect described; intensity knobs are left out (per-crop normalisation removes them).

    Returns
    -------
    str
        The phrases, strongest first, joined by ``"; "`` (``"no shape or pattern change"`` when none).
    """
    moved = effects[effects.abs() >= threshold].sort_values(key=abs, ascending=False)
    words = [_LOOKS[(knob, int(np.sign(value)))] for knob, value in moved.items() if (knob, np.sign(value)) in _LOOKS]
    return "; ".join(words) or "no shape or pattern change"
