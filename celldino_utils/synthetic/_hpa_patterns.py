"""Protein localisation patterns and reference stains of the synthetic HPA fields.

One function per localisation class of ``HPA_KAGGLE_2018_CLASSES`` (those with a synthetic
look), each returning an (H, W) float image with peak about 1 over every cell of a field;
the caller masks it to the cells that show the class. The reference stains (nucleus,
microtubules, ER) are drawn once per field in ``build_context`` and reused by the
matching protein classes, so a microtubule protein co-localises with the red channel.
``CELL_LINE_LOOKS`` holds the look of each cell line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

import numpy as np

from celldino_utils.synthetic._draw import (
    CellLayout,
    anchor_points,
    boundary_rim,
    cell_at,
    draw_puncta,
    draw_walks,
    reticular_network,
    sample_points,
    smooth_noise,
)


@dataclass(frozen=True)
class CellLineLook:
    """How one cell line looks: cell geometry, and the texture of its reference stains.

    Texture lengths are fractions of the cell radius, so they survive the crops and rescaling of
    self-supervised training the way real morphology does; stain brightness does not (images are
    normalised per channel). Values are illustrative, chosen to make the lines look different,
    not measured.
    """

    size: float  # cell radius factor
    elongation: float  # long/short axis ratio
    irregularity: float  # boundary wobble
    density: float  # 0..1: where the cell count falls within ``cells_per_image``
    nucleus_fraction: float  # nucleus radius / cell radius
    stains: tuple[float, float, float, float]  # brightness of microtubules, protein, nucleus, ER
    filament_turn: float  # curvature of microtubules (0 straight)
    filament_alignment: float  # fraction of microtubules along the cell's long axis rather than radiating
    filament_density: float  # microtubules per pixel of cell radius
    er_mesh: float  # ER mesh size / cell radius
    er_perinuclear: float  # 0: ER spread over the cytoplasm, 1: packed around the nucleus
    chromatin: float  # contrast of granular chromatin in the DNA stain
    nucleoli: tuple[int, int]  # min, max nucleoli per nucleus


# One row per cell line, in the field order of ``CellLineLook``. U2OS: large flat cells, long straight microtubules
# radiating from the centrosome, fine ER. A431: compact epithelial cells, curly microtubules, coarse ER, granular
# chromatin, few big nucleoli. U251MG: spindly glial cells, microtubule bundles along the long axis, perinuclear ER.
# HEK293: small crowded cells, few filaments, ER packed round a large speckled nucleus.
# fmt: off
CELL_LINE_LOOKS: MappingProxyType = MappingProxyType({
    name: CellLineLook(*row)
    for name, row in {
        #          size  elong irreg dens  nuc   stains: MT prot DNA ER    turn  align fil  mesh  peri chrom nucleoli
        "U2OS":   (1.15, 1.60, 0.12, 0.20, 0.40, (1.00, 1.00, 0.80, 0.75), 0.02, 0.00, 2.2, 0.25, 0.1, 0.10, (2, 4)),
        "A431":   (0.90, 1.10, 0.05, 0.75, 0.50, (0.55, 0.85, 1.10, 1.05), 0.30, 0.00, 1.6, 0.55, 0.3, 0.45, (1, 2)),
        "U251MG": (1.05, 2.40, 0.22, 0.45, 0.36, (0.90, 1.10, 0.65, 0.55), 0.01, 0.85, 2.6, 0.30, 0.6, 0.20, (3, 5)),
        "HEK293": (0.75, 1.20, 0.08, 0.95, 0.58, (0.65, 0.75, 1.20, 0.85), 0.12, 0.00, 0.8, 0.40, 0.9, 0.35, (4, 7)),
        "MCF7":   (0.95, 1.25, 0.10, 0.65, 0.50, (0.70, 0.90, 1.00, 1.00), 0.15, 0.10, 1.8, 0.45, 0.4, 0.30, (2, 3)),
        "HeLa":   (1.00, 1.40, 0.15, 0.50, 0.42, (0.85, 0.95, 0.90, 0.70), 0.06, 0.20, 2.0, 0.30, 0.2, 0.15, (2, 5)),
        "CACO2":  (0.85, 1.10, 0.06, 0.85, 0.52, (0.60, 0.80, 1.05, 1.10), 0.20, 0.00, 1.4, 0.50, 0.5, 0.40, (1, 3)),
        "RT4":    (0.90, 1.30, 0.10, 0.70, 0.48, (0.75, 1.05, 0.95, 0.90), 0.10, 0.30, 1.7, 0.35, 0.7, 0.25, (3, 4)),
    }.items()
})
# fmt: on


@dataclass(frozen=True)
class PatternContext:
    """Structures shared by the reference stains and the protein patterns of one field."""

    layout: CellLayout
    nuc: np.ndarray  # (H, W) nucleus mask
    cyto: np.ndarray  # (H, W) cytoplasm mask
    anchors: np.ndarray  # (N, 2) centrosome beside each nucleus
    nucleoli: np.ndarray  # (H, W) nucleoli, peak 1
    microtubules: np.ndarray  # (H, W) filaments radiating from the centrosome, peak 1
    er: np.ndarray  # (H, W) reticular network in the cytoplasm, peak 1
    nucleus: np.ndarray  # (H, W) DNA stain
    unit: float  # mean cell radius, px


def build_context(layout: CellLayout, look: CellLineLook, rng: np.random.Generator) -> PatternContext:
    """Draw the reference stains of a field in the texture of its cell line (nucleus with chromatin
    and nucleoli, microtubules from the centrosome or along the long axis, ER network) and the
    structures the protein patterns reuse."""
    shape, n = layout.cells.shape, len(layout.shapes)
    unit = float(np.mean([c.radius for c in layout.shapes]))
    cell, nuc = (layout.cells > 0).astype(np.float32), (layout.nuclei > 0).astype(np.float32)
    cyto = cell - nuc
    anchors = anchor_points(layout, rng=rng)
    low, high = look.nucleoli
    seeds = sample_points(nuc * (layout.nucleus_rho < 0.6), int(rng.integers(low, high + 1, n).sum()), rng=rng)
    lobes = np.repeat(seeds, 3, axis=0) + rng.normal(0.0, 0.05 * unit, (3 * len(seeds), 2))
    nucleolus_sigma = 0.12 * unit / np.sqrt((low + high) / 2)
    nucleoli = np.clip(1.3 * draw_puncta(shape, lobes, rng=rng, sigma=nucleolus_sigma), 0, 1) * nuc
    clumps = np.clip(smooth_noise(shape, rng=rng, sigma=0.06 * unit), 0.0, None)
    dna = 0.75 + 0.1 * smooth_noise(shape, rng=rng, sigma=0.05 * unit) + look.chromatin * clumps
    dna = nuc * dna * (1.0 - 0.6 * nucleoli) * np.exp(rng.normal(0.0, 0.15, n + 1))[layout.cells]
    mt = _microtubules(layout, look, anchors, cyto, unit, rng)
    mt = np.clip(mt, 0.0, 1.0) * (1.0 - 0.4 * nuc)
    network = reticular_network(shape, rng=rng, scale=look.er_mesh * unit, width=0.3)
    spread = np.clip(layout.cell_rho - look.nucleus_fraction, 0.0, None)
    er = cyto * (0.15 + network) * np.exp(-4.0 * look.er_perinuclear * spread)
    er = er + 0.6 * boundary_rim(layout, part="nucleus", width=1.0)
    return PatternContext(layout, nuc, cyto, anchors, nucleoli, mt + 0.1 * cell, er, dna, unit)


def _microtubules(
    layout: CellLayout,
    look: CellLineLook,
    anchors: np.ndarray,
    cyto: np.ndarray,
    unit: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Filaments radiating from each centrosome, plus filaments across the cytoplasm that follow the
    cell's long axis with probability ``look.filament_alignment``."""
    n = len(layout.shapes)
    n_fil = np.maximum(rng.poisson(look.filament_density * unit, n), 1)
    n_radiating = np.rint((1.0 - look.filament_alignment) * n_fil).astype(int)
    starts = np.repeat(anchors, n_radiating, axis=0) + rng.normal(0.0, 1.0, (n_radiating.sum(), 2))
    angles = rng.uniform(0.0, 2 * np.pi, len(starts))
    spread = sample_points(cyto, int(n_fil.sum() - n_radiating.sum() + n_fil.sum() // 2), rng=rng)
    ids = cell_at(layout, spread)
    axis = np.array([0.0] + [s.angle for s in layout.shapes])[ids] + np.pi * rng.integers(0, 2, len(ids))
    aligned = rng.random(len(ids)) < look.filament_alignment
    spread_angles = np.where(aligned, axis + rng.normal(0.0, 0.1, len(ids)), rng.uniform(0.0, 2 * np.pi, len(ids)))
    starts = np.concatenate([starts, spread]).astype(np.float32)
    angles = np.concatenate([angles, spread_angles])
    return draw_walks(
        layout, starts, angles, rng=rng, length=2.2 * unit, turn_sd=look.filament_turn, blur=0.45 + 0.01 * unit
    )


def _nucleoplasm(c: PatternContext, rng: np.random.Generator) -> np.ndarray:
    texture = 0.85 + 0.1 * smooth_noise(c.nuc.shape, rng=rng, sigma=0.04 * c.unit)
    return c.nuc * texture * (1.0 - 0.9 * c.nucleoli)


def _cytosol(c: PatternContext, rng: np.random.Generator) -> np.ndarray:
    texture = 0.75 + 0.08 * smooth_noise(c.nuc.shape, rng=rng, sigma=0.05 * c.unit)
    return c.cyto * texture * (1.1 - 0.35 * c.layout.cell_rho) + 0.08 * c.nuc


def _puncta(
    c: PatternContext, rng: np.random.Generator, *, where: str, per_cell: int, sigma: float, bias: float
) -> np.ndarray:
    """Spots of ``sigma`` x cell radius in the cytoplasm or nucleus, denser near the centre when ``bias`` > 0."""
    mask = c.nuc if where == "nucleus" else c.cyto
    rho = c.layout.nucleus_rho if where == "nucleus" else c.layout.cell_rho
    points = sample_points(mask * (1.0 - 0.9 * rho) ** bias, per_cell * len(c.layout.shapes), rng=rng)
    return draw_puncta(c.nuc.shape, points, rng=rng, sigma=max(0.6, sigma * c.unit)) * mask


def _near_centrosome(c: PatternContext, rng: np.random.Generator, *, n: int, spread: float, sigma: float) -> np.ndarray:
    """``n`` spots per cell scattered ``spread`` x cell radius around the centrosome (Golgi, aggresome)."""
    points = np.repeat(c.anchors, n, axis=0) + rng.normal(0.0, spread * c.unit + 1e-3, (n * len(c.anchors), 2))
    return np.clip(draw_puncta(c.nuc.shape, points, rng=rng, sigma=max(0.6, sigma * c.unit)), 0, 1.5) * c.cyto


def _golgi(c: PatternContext, rng: np.random.Generator) -> np.ndarray:
    """Crescent of small stacks hugging the nucleus on the centrosome side."""
    centers = np.array([s.nucleus_center for s in c.layout.shapes], np.float32)
    radii = np.array([s.nucleus_radius for s in c.layout.shapes], np.float32)
    side = np.arctan2(c.anchors[:, 0] - centers[:, 0], c.anchors[:, 1] - centers[:, 1])
    theta = np.repeat(side, 20) + rng.normal(0.0, 0.45, 20 * len(side))
    reach = np.repeat(radii, 20) * (1.1 + np.abs(rng.normal(0.0, 0.2, len(theta))))
    points = np.repeat(centers, 20, axis=0) + reach[:, None] * np.stack([np.sin(theta), np.cos(theta)], axis=1)
    return np.clip(draw_puncta(c.nuc.shape, points, rng=rng, sigma=max(0.6, 0.04 * c.unit)), 0, 1.2) * c.cyto


def _tubules(
    c: PatternContext, rng: np.random.Generator, *, per_cell: int, length: float, turn_sd: float
) -> np.ndarray:
    """Mitochondria-like worms (``length`` x cell radius) scattered in the cytoplasm, denser near the nucleus."""
    starts = sample_points(c.cyto * (1.1 - c.layout.cell_rho), per_cell * len(c.layout.shapes), rng=rng)
    angles = rng.uniform(0.0, 2 * np.pi, len(starts))
    return draw_walks(c.layout, starts, angles, rng=rng, length=length * c.unit, turn_sd=turn_sd, blur=0.6)


def _actin(c: PatternContext, rng: np.random.Generator) -> np.ndarray:
    """Straight stress fibres along each cell's long axis plus the cortical rim."""
    starts = sample_points(c.cyto + c.nuc, 12 * len(c.layout.shapes), rng=rng)
    ids = cell_at(c.layout, starts)
    axis = np.array([0.0] + [s.angle for s in c.layout.shapes])[ids] + rng.normal(0.0, 0.1, len(ids))
    angles = axis + np.pi * rng.integers(0, 2, len(ids))
    fibres = draw_walks(c.layout, starts, angles, rng=rng, length=2.0 * c.unit, turn_sd=0.01, blur=0.6)
    return np.clip(fibres, 0, 1.2) + 0.6 * boundary_rim(c.layout, width=1.0)


PATTERNS = {
    "Nucleoplasm": _nucleoplasm,
    "Nuclear membrane": lambda c, rng: boundary_rim(c.layout, part="nucleus", width=0.9),
    "Nucleoli": lambda c, rng: c.nucleoli,
    "Nuclear speckles": partial(_puncta, where="nucleus", per_cell=14, sigma=0.05, bias=0.0),
    "Nuclear bodies": partial(_puncta, where="nucleus", per_cell=3, sigma=0.035, bias=0.0),
    "Endoplasmic reticulum": lambda c, rng: c.er,
    "Golgi apparatus": _golgi,
    "Peroxisomes": partial(_puncta, where="cyto", per_cell=40, sigma=0.03, bias=0.0),
    "Endosomes": partial(_puncta, where="cyto", per_cell=25, sigma=0.045, bias=0.0),
    "Lysosomes": partial(_puncta, where="cyto", per_cell=20, sigma=0.05, bias=2.0),
    "Intermediate filaments": partial(_tubules, per_cell=25, length=1.2, turn_sd=0.12),
    "Actin filaments": _actin,
    "Microtubules": lambda c, rng: c.microtubules,
    "Microtubule organizing center": partial(_near_centrosome, n=3, spread=0.04, sigma=0.05),
    "Centrosome": partial(_near_centrosome, n=2, spread=0.03, sigma=0.03),
    "Lipid droplets": partial(_puncta, where="cyto", per_cell=6, sigma=0.09, bias=0.0),
    "Plasma membrane": lambda c, rng: boundary_rim(c.layout, width=1.1),
    "Mitochondria": partial(_tubules, per_cell=30, length=0.45, turn_sd=0.2),
    "Aggresome": partial(_near_centrosome, n=1, spread=0.0, sigma=0.15),
    "Cytosol": _cytosol,
    "Cytoplasmic bodies": partial(_puncta, where="cyto", per_cell=2, sigma=0.07, bias=0.0),
    "Rods & rings": partial(_tubules, per_cell=2, length=0.4, turn_sd=0.0),
}
