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

#: Phenotype knobs. Size, count and intensity knobs are natural-log factors (0.4 is about x1.5);
#: ``mitotic_arrest`` and ``nuclear_fragmentation`` are extra fractions of affected cells;
#: ``mito_fragmentation`` is the extra fraction of punctate (instead of tubular) mitochondria.
KNOBS: tuple[str, ...] = (
    "cell_size",
    "nucleus_size",
    "cell_count",
    "elongation",
    "dna_intensity",
    "er_intensity",
    "rna_intensity",
    "nucleoli",
    "agp_intensity",
    "actin_fibres",
    "mito_intensity",
    "mito_fragmentation",
    "mitotic_arrest",
    "nuclear_fragmentation",
)
FRACTION_KNOBS: tuple[str, ...] = ("mito_fragmentation", "mitotic_arrest", "nuclear_fragmentation")

# MoA name -> (knob effects at full strength, real compound names of that class as in LINCS pert_iname).
_MOAS: dict[str, tuple[dict[str, float], tuple[str, ...]]] = {
    "tubulin polymerization inhibitor": (
        {"mitotic_arrest": 0.65, "cell_count": -0.5, "actin_fibres": -0.6, "agp_intensity": 0.3},
        ("colchicine", "nocodazole", "vincristine", "podophyllotoxin", "combretastatin-a-4"),
    ),
    "HDAC inhibitor": (
        {"nucleus_size": 0.4, "cell_size": 0.3, "dna_intensity": -0.35, "rna_intensity": 0.35, "elongation": 0.3},
        ("vorinostat", "panobinostat", "entinostat", "belinostat", "dacinostat"),
    ),
    "CDK inhibitor": (
        {"cell_count": -0.55, "cell_size": 0.35, "nucleoli": -0.8, "rna_intensity": -0.5},
        ("alvocidib", "dinaciclib", "palbociclib", "roscovitine", "AT-7519"),
    ),
    "proteasome inhibitor": (
        {"er_intensity": 0.8, "nuclear_fragmentation": 0.35, "mito_fragmentation": 0.4, "cell_size": -0.2},
        ("bortezomib", "MG-132", "carfilzomib", "ixazomib", "delanzomib"),
    ),
    "topoisomerase inhibitor": (
        {"nucleus_size": 0.55, "cell_size": 0.5, "cell_count": -0.4, "nuclear_fragmentation": 0.15},
        ("camptothecin", "etoposide", "topotecan", "irinotecan", "mitoxantrone"),
    ),
    "HSP inhibitor": (
        {"er_intensity": 0.6, "agp_intensity": -0.5, "actin_fibres": -0.7, "mito_fragmentation": 0.45},
        ("geldanamycin", "tanespimycin", "luminespib", "alvespimycin", "ganetespib"),
    ),
    "ATPase inhibitor": (
        {"cell_size": -0.45, "elongation": -0.4, "mito_intensity": -0.5, "rna_intensity": -0.3},
        ("ouabain", "digoxin", "proscillaridin", "cymarin", "digitoxin"),
    ),
    "mTOR inhibitor": (
        {"cell_size": -0.35, "nucleoli": -0.7, "er_intensity": -0.5, "mito_intensity": 0.5},
        ("sirolimus", "everolimus", "torin-1", "AZD-8055", "temsirolimus"),
    ),
    "Aurora kinase inhibitor": (
        {"nucleus_size": 0.7, "cell_size": 0.45, "cell_count": -0.45, "dna_intensity": 0.3},
        ("alisertib", "tozasertib", "barasertib", "danusertib", "ENMD-2076"),
    ),
    "PLK inhibitor": (
        {"mitotic_arrest": 0.45, "nuclear_fragmentation": 0.25, "cell_count": -0.4},
        ("volasertib", "BI-2536", "GSK-461364", "rigosertib", "onvansertib"),
    ),
    "glucocorticoid receptor agonist": (
        {"actin_fibres": 0.8, "cell_size": 0.25, "elongation": 0.45, "agp_intensity": 0.3},
        ("dexamethasone", "budesonide", "prednisolone", "fluocinolone", "betamethasone"),
    ),
    "HMGCR inhibitor": (
        {"elongation": -0.5, "actin_fibres": -0.6, "agp_intensity": -0.35, "cell_size": -0.3},
        ("simvastatin", "lovastatin", "fluvastatin", "atorvastatin", "cerivastatin"),
    ),
}

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


def draw_cells(
    effect: np.ndarray, n_cells: int, *, size_factor: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per-cell morphology and stain levels of one site, before placement.

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
        (radians) of the cell, ``fibre_period`` (px between stress fibres), flags ``round`` (mitotic arrest)
        and ``fragmented`` (nuclear fragmentation), stain levels ``dna, er, rna, nucleoli, agp, fibres, mito``
        (1 in DMSO) and ``mito_fragmentation`` (fraction of punctate mitochondria).
    """
    k = dict(zip(KNOBS, effect, strict=True))
    response = rng.lognormal(0.0, 0.35, size=n_cells)  # cell-to-cell heterogeneity of the response

    def factor(knob: str, noise: float) -> np.ndarray:
        return np.exp(k[knob] * response + rng.normal(0.0, noise, size=n_cells))

    round_ = rng.random(n_cells) < np.clip(0.03 + k["mitotic_arrest"] * response, 0.0, 0.95)
    fragmented = ~round_ & (rng.random(n_cells) < np.clip(0.01 + k["nuclear_fragmentation"] * response, 0.0, 0.95))
    radius = 19.0 * size_factor * factor("cell_size", 0.12)
    nucleus = 8.0 * size_factor * factor("nucleus_size", 0.1) * np.exp(0.3 * k["cell_size"] * response)
    nucleus = np.minimum(nucleus, 0.7 * radius)
    aspect = np.exp(np.clip(0.3 + k["elongation"] * response + rng.normal(0.0, 0.15, size=n_cells), 0.0, 1.2))
    cells = {
        "radius": np.where(round_, 0.62 * radius, radius),
        "nucleus_radius": np.where(round_, 0.6 * nucleus, np.where(fragmented, 0.75 * nucleus, nucleus)),
        "aspect": np.where(round_, 1.0, aspect),
        "angle": rng.uniform(0.0, np.pi, size=n_cells),
        "fibre_period": rng.uniform(4.5, 7.0, size=n_cells),
        "round": round_,
        "fragmented": fragmented,
        "dna": factor("dna_intensity", 0.1) * np.where(round_ | fragmented, 1.9, 1.0),
        "er": factor("er_intensity", 0.12),
        "rna": factor("rna_intensity", 0.12),
        "nucleoli": factor("nucleoli", 0.15) * ~round_,
        "agp": factor("agp_intensity", 0.12) * np.where(round_, 1.6, 1.0),
        "fibres": factor("actin_fibres", 0.2) * ~round_,
        "mito": factor("mito_intensity", 0.12),
        "mito_fragmentation": np.clip(0.1 + k["mito_fragmentation"] * response + rng.normal(0, 0.05, n_cells), 0, 1),
    }
    return cells


def place_cells(cells: dict[str, np.ndarray], size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Seed cells one by one at random free positions; cells that find no room are not seeded.

    Adds ``x, y`` (cell centres) and ``nx, ny`` (nucleus centres, inside the image) to the kept cells.
    """
    xs: list[float] = []
    ys: list[float] = []
    kept: list[int] = []
    for i, radius in enumerate(cells["radius"]):
        margin = 0.5 * cells["nucleus_radius"][i] + 1.0
        candidates = rng.uniform(margin, size - 1 - margin, size=(40, 2))
        if kept:
            gap = np.hypot(candidates[:, :1] - np.array(xs), candidates[:, 1:] - np.array(ys))
            free = (gap >= 0.55 * (radius + cells["radius"][kept])).all(axis=1)
            if not free.any():
                continue
            candidates = candidates[free]
        xs.append(float(candidates[0, 0]))
        ys.append(float(candidates[0, 1]))
        kept.append(i)
    placed = {key: value[kept] for key, value in cells.items()}
    placed["x"], placed["y"] = np.array(xs), np.array(ys)
    offset = rng.uniform(0.0, 0.12, len(kept)) * placed["radius"]
    direction = rng.uniform(0.0, 2 * np.pi, len(kept))
    placed["nx"] = np.clip(placed["x"] + offset * np.cos(direction), 1.0, size - 2.0)
    placed["ny"] = np.clip(placed["y"] + offset * np.sin(direction), 1.0, size - 2.0)
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


def _nuclear_blobs(cells: dict[str, np.ndarray], label: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Maps (H, W) of nuclear fragments (DNA), nucleoli (RNA) and Golgi (AGP) drawn around each nucleus."""
    fragments, nucleoli, golgi = [], [], []
    for i in range(len(cells["x"])):
        x, y, rn = cells["nx"][i], cells["ny"][i], cells["nucleus_radius"][i]
        for _ in range(rng.integers(2, 5) if cells["fragmented"][i] else 0):
            angle, dist, radius = rng.uniform(0, 2 * np.pi), rng.uniform(1.1, 1.7) * rn, rng.uniform(0.3, 0.5) * rn
            fragments.append((i, x + dist * np.cos(angle), y + dist * np.sin(angle), radius, cells["dna"][i]))
        if cells["round"][i]:
            continue
        level = cells["nucleoli"][i]
        for _ in range(rng.integers(1, 4)):
            angle, dist = rng.uniform(0, 2 * np.pi), 0.45 * rn * np.sqrt(rng.uniform())
            radius = max(rng.uniform(0.11, 0.18) * rn * np.sqrt(level), 0.6)
            nucleoli.append((i, x + dist * np.cos(angle), y + dist * np.sin(angle), radius, 1.3 * level))
        angle = rng.uniform(0, 2 * np.pi)
        for _ in range(3):
            dist, side = 1.1 * rn + rng.uniform(0.0, 2.5), angle + rng.uniform(-0.5, 0.5)
            golgi.append((i, x + dist * np.cos(side), y + dist * np.sin(side), rng.uniform(1.0, 1.8), 0.7))
    return {
        "fragments": _blobs(label, fragments, power=2),
        "nucleoli": _blobs(label, nucleoli, power=1),
        "golgi": _blobs(label, golgi, power=1),
    }


def render_stains(cells: dict[str, np.ndarray], geom: dict[str, np.ndarray], *, rng: np.random.Generator) -> np.ndarray:
    """Noise-free stain density of one site (about 1 on a bright structure).

    Parameters
    ----------
    cells : dict of str to numpy.ndarray
        Placed cells: ``draw_cells`` output plus centres ``x, y`` and nucleus centres ``nx, ny``.
    geom : dict of str to numpy.ndarray
        Per-pixel maps (H, W): owner ``label``, normalised distances ``rho`` (own cell), ``rho2`` (runner-up
        cell), ``nu`` (own nucleus), and pixel coordinates ``xx, yy``.
    rng : numpy.random.Generator
        Source of randomness (textures, nucleoli, fragments, Golgi).

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
    perinuclear = np.exp(-np.clip(nu - 1.0, 0.0, None) / 1.2)
    membrane = np.maximum(np.exp(-(((1.0 - rho) / 0.07) ** 2)), np.exp(-(((1.0 - rho / geom["rho2"]) / 0.05) ** 2)))
    membrane *= rho < 1.05
    envelope = np.exp(-(((nu - 1.0) / 0.15) ** 2)) * inside
    angle = per_cell("angle") + 0.08 * smooth_noise(shape, rng=rng, sigma=12.0)
    phase = (geom["xx"] * np.cos(angle) + geom["yy"] * np.sin(angle)) * (2 * np.pi) / per_cell("fibre_period")
    fibres = ((1.0 + np.cos(phase + 0.8 * smooth_noise(shape, rng=rng, sigma=10.0))) / 2.0) ** 12
    fibres *= np.clip(0.3 + 0.7 * smooth_noise(shape, rng=rng, sigma=3.0), 0.0, 1.0)  # fibres come and go
    blobs = _nuclear_blobs(cells, label, rng)
    chromatin = np.clip(1.0 + (0.2 + 0.4 * per_cell("round")) * smooth_noise(shape, rng=rng, sigma=0.8), 0.4, None)
    dna = per_cell("dna") * nucleus * chromatin + blobs["fragments"]
    er_net = reticular_network(shape, rng=rng, scale=2.5, width=0.3)
    er = per_cell("er") * (cyto * perinuclear * (0.2 + 0.9 * er_net) + 0.3 * envelope)
    rna_cyto = cyto * np.sqrt(perinuclear) * (1.0 + 0.3 * smooth_noise(shape, rng=rng, sigma=1.5))
    rna = per_cell("rna") * (0.25 * nucleus + 0.5 * rna_cyto) + blobs["nucleoli"]
    actin = 0.12 * inside + 0.8 * membrane + 0.5 * per_cell("fibres") * fibres * inside
    agp = per_cell("agp") * actin + blobs["golgi"]
    punctate = per_cell("mito_fragmentation")
    puncta = np.clip(smooth_noise(shape, rng=rng, sigma=1.1) - 1.2, 0.0, None) / 0.8
    network = (1.0 - punctate) * reticular_network(shape, rng=rng, scale=4.5, width=0.25) + 1.4 * punctate * puncta
    mito = per_cell("mito") * cyto * perinuclear**0.6 * (0.08 + network)
    return np.clip(np.stack([dna, er, rna, agp, mito]), 0.0, None).astype(np.float32)
