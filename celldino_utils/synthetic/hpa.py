"""Synthetic Human Protein Atlas fields of view with known ground truth, in the real on-disk formats.

Each field holds a few cells of one cell line stained like HPA images (microtubules,
protein of interest, nucleus, ER). The protein channel shows the localisation pattern
of one antibody (1 or 2 classes of ``HPA_KAGGLE_2018_CLASSES``). Cell lines differ in
cell size, shape, density, stain intensity and the texture of their reference stains
(chromatin, nucleoli, microtubule layout, ER mesh), and are imaged on their own plates with
per-plate gain, offset, illumination gradient and noise, so raw embeddings cluster by
cell line (supplement Figure B) while localisation stays recoverable (Figure A).
Proteins show no, spatial or intensity heterogeneity between cells (Figure D).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from PIL import Image

from celldino_utils.io.channels import HPA_KAGGLE
from celldino_utils.io.classes import HPA_KAGGLE_2018_CLASSES, HPA_KAGGLE_2021_CLASSES
from celldino_utils.io.files import (
    CELL_MASK_SUFFIX,
    CELLS_CSV,
    HPA_FOV_CSV,
    HPA_FOV_IMAGE_DIR,
    HPA_IMAGE_DIR,
    HPA_LABELS_CSV,
    HPA_METADATA_CSV,
    MASK_DIR,
    NUCLEUS_MASK_SUFFIX,
)
from celldino_utils.synthetic._draw import (
    CellLayout,
    camera_noise,
    gaussian_blur,
    illumination_field,
    random_cell_layout,
    to_uint8,
)
from celldino_utils.synthetic._hpa_patterns import CELL_LINE_LOOKS, PATTERNS, build_context
from celldino_utils.synthetic._presets import config_from_preset

HPA_LAYOUTS: tuple[str, ...] = ("kaggle-2018", "kaggle-2021", "hpa-fov")
HETEROGENEITY_TYPES: tuple[str, ...] = ("none", "spatial", "intensity")
DEFAULT_HPA_CLASSES: tuple[str, ...] = (
    "Nucleoplasm",
    "Nuclear membrane",
    "Nucleoli",
    "Endoplasmic reticulum",
    "Golgi apparatus",
    "Endosomes",
    "Microtubules",
    "Plasma membrane",
    "Mitochondria",
    "Cytosol",
)

# 2018 class -> 2021 class: same name, or the 2021 class that merged it; absent = no 2021 equivalent.
_VESICLE_2021 = "Vesicles and punctate cytosolic patterns"
_TO_2021: dict[str, str] = {name: name for name in HPA_KAGGLE_2018_CLASSES if name in HPA_KAGGLE_2021_CLASSES} | {
    "Endosomes": _VESICLE_2021,
    "Lysosomes": _VESICLE_2021,
    "Peroxisomes": _VESICLE_2021,
    "Lipid droplets": _VESICLE_2021,
    "Cytoplasmic bodies": _VESICLE_2021,
    "Microtubule organizing center": "Centrosome",
}
_COVERAGE = 0.4  # fraction of the field covered by cells at the top of ``cells_per_image``


@dataclass(frozen=True)
class HPASyntheticConfig:
    """What to generate; every field is a plain type so YAML profiles can fill it.

    Attributes
    ----------
    n_images : int
        Number of fields of view.
    image_size : int
        Side of the square fields, pixels (>= 32).
    cell_lines : tuple of str
        Cell lines, names from ``CELL_LINE_LOOKS``; each has its own plates.
    classes : tuple of str
        Localisation classes used, names from ``HPA_KAGGLE_2018_CLASSES`` with a synthetic pattern.
    n_proteins : int
        Number of antibodies (one per gene); each is imaged ``n_images / n_proteins`` times across
        cell lines, so splits grouped by antibody are possible. At least ``len(classes)``.
    multilabel_fraction : float
        Fraction of proteins with two localisation classes instead of one.
    heterogeneity_fractions : tuple of float
        Fractions of proteins with (none, spatial, intensity) single-cell heterogeneity; sum to 1.
    plates_per_cell_line : int
        Plates per cell line; each plate has its own gain, offset, illumination and noise.
    cells_per_image : tuple of int
        Inclusive (min, max) number of cells per field; dense cell lines sit at the top.
    seed : int
        Seed of everything; the same config writes byte-identical files.
    """

    n_images: int = 960
    image_size: int = 128
    cell_lines: tuple[str, ...] = ("U2OS", "A431", "U251MG", "HEK293")
    classes: tuple[str, ...] = DEFAULT_HPA_CLASSES
    n_proteins: int = 120
    multilabel_fraction: float = 0.25
    heterogeneity_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    plates_per_cell_line: int = 3
    cells_per_image: tuple[int, int] = (3, 6)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("cell_lines", "classes", "heterogeneity_fractions", "cells_per_image"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise ValueError(f"{name} must be a sequence, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        for name, low in (("n_images", 1), ("image_size", 32), ("n_proteins", 1), ("plates_per_cell_line", 1)):
            _check_int(name, getattr(self, name), low)
        _check_int("seed", self.seed, 0)
        _check_names("cell_lines", self.cell_lines, tuple(CELL_LINE_LOOKS))
        _check_names("classes", self.classes, HPA_KAGGLE_2018_CLASSES)
        missing = [name for name in self.classes if name not in PATTERNS]
        if missing:
            raise ValueError(f"classes: no synthetic pattern for {missing}; supported: {sorted(PATTERNS)}")
        if len(self.classes) < 2:
            raise ValueError(f"classes: need at least 2 classes, got {list(self.classes)}")
        if self.n_proteins < len(self.classes):
            raise ValueError(f"n_proteins={self.n_proteins} must be >= the number of classes ({len(self.classes)})")
        if self.n_images < 2 * self.n_proteins:
            raise ValueError(f"n_images={self.n_images} must be >= 2 * n_proteins ({2 * self.n_proteins})")
        if not _is_number(self.multilabel_fraction) or not 0.0 <= self.multilabel_fraction <= 1.0:
            raise ValueError(f"multilabel_fraction must be a number in [0, 1], got {self.multilabel_fraction!r}")
        fractions = self.heterogeneity_fractions
        if (
            len(fractions) != 3
            or not all(_is_number(f) and f >= 0 for f in fractions)
            or abs(sum(fractions) - 1) > 1e-6
        ):
            raise ValueError(f"heterogeneity_fractions must be 3 non-negative fractions summing to 1, got {fractions}")
        counts = self.cells_per_image
        if len(counts) != 2 or not all(_is_int(v) for v in counts) or not 1 <= counts[0] <= counts[1]:
            raise ValueError(f"cells_per_image must be (min, max) integers with 1 <= min <= max, got {counts}")
        if self.base_radius < 7.0:
            raise ValueError(
                f"cells_per_image max {counts[1]} is too many for image_size {self.image_size} (cells < 7 px radius)"
            )

    @property
    def base_radius(self) -> float:
        """Mean cell radius in pixels before the cell-line size factor."""
        return float(self.image_size * np.sqrt(_COVERAGE / (np.pi * self.cells_per_image[1])))


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, (float, np.floating))) and bool(np.isfinite(value))


def _check_int(name: str, value: object, low: int) -> None:
    if not _is_int(value) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_names(name: str, values: tuple[str, ...], known: tuple[str, ...]) -> None:
    unknown = [v for v in values if v not in known]
    if unknown or not values or len(set(values)) != len(values):
        raise ValueError(f"{name}: need unique names from {list(known)}; unknown {unknown} in {list(values)}")


#: Named presets: field overrides of ``HPASyntheticConfig`` (``default`` is the main job, ``tiny`` the tests).
HPA_PRESETS: MappingProxyType = MappingProxyType(
    {
        "tiny": dict(n_images=32, image_size=64, n_proteins=16, plates_per_cell_line=2, cells_per_image=(1, 3)),
        "default": {},
    }
)


def hpa_preset(name: str, **overrides: object) -> HPASyntheticConfig:
    """Return the preset config ``name`` (see ``HPA_PRESETS``) with ``overrides`` (field=value) applied."""
    return config_from_preset(HPASyntheticConfig, HPA_PRESETS, name, overrides, kind="HPA")


@dataclass(frozen=True)
class _Protein:
    antibody: str
    gene: str
    classes: tuple[str, ...]
    alt_class: str
    heterogeneity: str
    expression: float


def _plan_proteins(config: HPASyntheticConfig, rng: np.random.Generator) -> list[_Protein]:
    """Assign classes (every class is some protein's first), heterogeneity and expression to each antibody."""
    n, classes = config.n_proteins, config.classes
    first = [classes[i % len(classes)] for i in rng.permutation(n)]
    n_multi = int(round(config.multilabel_fraction * n))
    is_multi = np.zeros(n, bool)
    is_multi[rng.permutation(n)[:n_multi]] = True
    counts = np.floor(np.asarray(config.heterogeneity_fractions) * n).astype(int)
    for i in np.argsort(-np.asarray(config.heterogeneity_fractions))[: n - counts.sum()]:
        counts[i] += 1
    for i in np.flatnonzero((counts == 0) & (np.asarray(config.heterogeneity_fractions) > 0)):
        counts[i], counts[counts.argmax()] = 1, counts.max() - 1
    kinds = rng.permutation(np.repeat(HETEROGENEITY_TYPES, counts))
    proteins = []
    for p in range(n):
        others = [c for c in classes if c != first[p]]
        second = others[rng.integers(len(others))]
        own = tuple(sorted({first[p], second} if is_multi[p] else {first[p]}, key=HPA_KAGGLE_2018_CLASSES.index))
        spare = [c for c in classes if c not in own]
        alt = spare[rng.integers(len(spare))]
        expression = float(np.exp(rng.normal(0.0, 0.25)))
        proteins.append(_Protein(f"HPA{900001 + p:06d}", f"SYNG{p + 1:04d}", own, alt, str(kinds[p]), expression))
    return proteins


def _plan_images(config: HPASyntheticConfig, rng: np.random.Generator) -> pd.DataFrame:
    """One row per field: Id, protein index, cell line and plate; each protein spans the cell lines evenly."""
    protein = rng.permutation(np.arange(config.n_images) % config.n_proteins)
    repeat = np.zeros(config.n_images, int)
    seen: dict[int, int] = {}
    for i, p in enumerate(protein):
        repeat[i] = seen.get(int(p), 0)
        seen[int(p)] = repeat[i] + 1
    n_lines = len(config.cell_lines)
    line = (protein + repeat) % n_lines
    plate_no = rng.integers(config.plates_per_cell_line, size=config.n_images)
    ids: list[str] = []
    while len(ids) < config.n_images:
        h = rng.bytes(16).hex()
        uid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if uid not in ids:
            ids.append(uid)
    return pd.DataFrame(
        {
            "Id": ids,
            "protein": protein,
            "cell_line": [config.cell_lines[k] for k in line],
            "plate": [f"P{k * config.plates_per_cell_line + j + 1:03d}" for k, j in zip(line, plate_no, strict=True)],
        }
    )


def _plan_plates(config: HPASyntheticConfig, rng: np.random.Generator) -> dict[str, dict[str, object]]:
    """Technical effects of each plate: a cell-line imaging signature (gains times the line's stains, background,
    illumination, noise) plus a smaller plate-to-plate deviation."""
    plates = {}
    for k, line in enumerate(config.cell_lines):
        gains = np.asarray(CELL_LINE_LOOKS[line].stains) * np.exp(rng.normal(0.0, 0.15, 4))
        offsets, angle = rng.uniform(0.01, 0.08, 4), rng.uniform(0.0, 2 * np.pi)
        strength, vignetting = rng.uniform(0.2, 0.6), rng.uniform(0.0, 0.4)
        photons, read_sd = np.exp(rng.uniform(np.log(60.0), np.log(400.0))), rng.uniform(0.006, 0.03)
        for j in range(config.plates_per_cell_line):
            plates[f"P{k * config.plates_per_cell_line + j + 1:03d}"] = {
                "gains": gains * np.exp(rng.normal(0.0, 0.1, 4)),
                "offsets": np.clip(offsets + rng.normal(0.0, 0.008, 4), 0.0, None),
                "angle": angle + rng.normal(0.0, 0.6),
                "strength": strength * rng.uniform(0.7, 1.3),
                "vignetting": vignetting * rng.uniform(0.7, 1.3),
                "photons": float(photons * np.exp(rng.normal(0.0, 0.25))),
                "read_sd": read_sd * rng.uniform(0.8, 1.25),
            }
    return plates


def _cell_truth(protein: _Protein, n_cells: int, rng: np.random.Generator) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Per-cell classes (spatial: a random subset shows ``alt_class`` instead) and protein levels."""
    targets = [protein.classes] * n_cells
    if protein.heterogeneity == "spatial":
        n_alt = int(rng.integers(1, n_cells)) if n_cells > 1 else int(rng.integers(0, 2))
        for i in rng.permutation(n_cells)[:n_alt]:
            targets[i] = (protein.alt_class,)
    spread = 1.0 if protein.heterogeneity == "intensity" else 0.12
    levels = np.clip(np.exp(rng.normal(0.0, spread, n_cells)), 0.05, 3.0) * protein.expression
    return targets, levels


def _render_field(
    config: HPASyntheticConfig, row: pd.Series, protein: _Protein, plate: dict, rng: np.random.Generator
) -> tuple[np.ndarray, CellLayout, list[tuple[str, ...]], np.ndarray]:
    """Draw one field: (4, H, W) uint8 channels in ``HPA_KAGGLE`` order, cell layout, per-cell truth."""
    look = CELL_LINE_LOOKS[row["cell_line"]]
    low, high = config.cells_per_image
    n_cells = low + int(rng.binomial(high - low, look.density))
    shape = (config.image_size, config.image_size)
    geometry = {
        "elongation": look.elongation,
        "irregularity": look.irregularity,
        "nucleus_fraction": look.nucleus_fraction,
    }
    layout = random_cell_layout(shape, n_cells, rng=rng, radius=config.base_radius * look.size, **geometry)
    targets, levels = _cell_truth(protein, n_cells, rng)
    ctx = build_context(layout, look, rng)
    protein_img = 0.04 * (layout.cells > 0)
    for name in sorted({c for t in targets for c in t}):
        has = np.array([0.0] + [lv if name in t else 0.0 for t, lv in zip(targets, levels, strict=True)])
        protein_img = protein_img + PATTERNS[name](ctx, rng) * has[layout.cells]
    raw = np.stack([ctx.microtubules, protein_img, ctx.nucleus, ctx.er])
    light = illumination_field(shape, angle=plate["angle"], strength=plate["strength"], vignetting=plate["vignetting"])
    gains = plate["gains"] * np.exp(rng.normal(0.0, 0.08, 4))
    psf = 0.02 * ctx.unit + 0.35
    out = np.empty((4, *shape), np.uint8)
    for c in range(4):
        signal = 0.75 * gains[c] * gaussian_blur(raw[c], psf) * light + plate["offsets"][c]
        out[c] = to_uint8(camera_noise(signal, rng=rng, photons=plate["photons"], read_sd=plate["read_sd"]))
    return out, layout, targets, levels


def _indices(names: set[str] | tuple[str, ...], classes: tuple[str, ...], sep: str) -> str:
    return sep.join(str(i) for i in sorted({classes.index(n) for n in names}))


def _save_png(array: np.ndarray, path: Path) -> None:
    Image.fromarray(array).save(path, compress_level=1)


def generate_hpa(out_dir: str | Path, config: HPASyntheticConfig, *, layout: str = "kaggle-2018") -> pd.DataFrame:
    """Write a synthetic HPA data set in one of the real on-disk layouts, with per-cell ground truth.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created; existing files of the same names are overwritten).
    config : HPASyntheticConfig
        What to generate; the same config writes byte-identical files.
    layout : str
        ``kaggle-2018`` (``train/{Id}_{red,green,blue,yellow}.png``, ``train.csv`` ``Id,Target``),
        ``kaggle-2021`` (same images, ``train.csv`` ``ID,Label`` with ``|``-separated 2021 indices) or
        ``hpa-fov`` (``images/{Id}.png`` RGBA = red, green, blue, yellow; ``fov.csv`` with ``file``,
        ``cell_type`` and 28 boolean class columns). Every layout also writes ``metadata.csv``,
        ``cells.csv`` and 16-bit label masks ``masks/{Id}_nuclei.png``, ``masks/{Id}_cells.png``.

    Returns
    -------
    pd.DataFrame
        The metadata table, one row per field: ``Id, cell_line, plate, antibody, gene,
        heterogeneity, n_cells`` (also written to ``metadata.csv``).
    """
    if layout not in HPA_LAYOUTS:
        raise ValueError(f"layout must be one of {list(HPA_LAYOUTS)}, got {layout!r}")
    if layout == "kaggle-2021":
        lost = [c for c in config.classes if c not in _TO_2021]
        if lost:
            raise ValueError(f"layout 'kaggle-2021': classes {lost} have no HPA_KAGGLE_2021_CLASSES equivalent")
    out = Path(out_dir)
    image_dir = out / (HPA_FOV_IMAGE_DIR if layout == "hpa-fov" else HPA_IMAGE_DIR)
    for folder in (image_dir, out / MASK_DIR):
        folder.mkdir(parents=True, exist_ok=True)
    plan_rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0]))
    proteins = _plan_proteins(config, plan_rng)
    plan = _plan_images(config, plan_rng)
    plates = _plan_plates(config, plan_rng)
    meta, cells, labels = [], [], []
    for i, row in plan.iterrows():
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, 1, int(i)]))
        protein = proteins[int(row["protein"])]
        image, lay, targets, levels = _render_field(config, row, protein, plates[row["plate"]], rng)
        uid = row["Id"]
        if layout == "hpa-fov":
            _save_png(np.ascontiguousarray(image.transpose(1, 2, 0)), image_dir / f"{uid}.png")
        else:
            for tag, channel in zip(HPA_KAGGLE.file_tags, image, strict=True):
                _save_png(channel, image_dir / f"{uid}_{tag}.png")
        _save_png(lay.nuclei.astype(np.uint16), out / MASK_DIR / f"{uid}{NUCLEUS_MASK_SUFFIX}")
        _save_png(lay.cells.astype(np.uint16), out / MASK_DIR / f"{uid}{CELL_MASK_SUFFIX}")
        for k, (cell, target, level) in enumerate(zip(lay.shapes, targets, levels, strict=True), start=1):
            target_str = _indices(target, HPA_KAGGLE_2018_CLASSES, " ")
            cells.append((uid, k, round(cell.center[1], 2), round(cell.center[0], 2), target_str, round(level, 4)))
        labels.append(set().union(*targets))
        meta.append((uid, row["cell_line"], row["plate"], protein.antibody, protein.gene, protein.heterogeneity))
        meta[-1] += (len(lay.shapes),)
    return _write_tables(out, layout, meta, cells, labels)


def _write_tables(
    out: Path, layout: str, meta: list[tuple], cells: list[tuple], labels: list[set[str]]
) -> pd.DataFrame:
    """Write metadata.csv, cells.csv and the layout's label table; return the metadata table."""
    columns = ["Id", "cell_line", "plate", "antibody", "gene", "heterogeneity", "n_cells"]
    metadata = pd.DataFrame(meta, columns=columns)
    metadata.to_csv(out / HPA_METADATA_CSV, index=False)
    cell_columns = ["Id", "cell_id", "center_x", "center_y", "Target", "protein_level"]
    pd.DataFrame(cells, columns=cell_columns).to_csv(out / CELLS_CSV, index=False)
    if layout == "kaggle-2018":
        target = [_indices(names, HPA_KAGGLE_2018_CLASSES, " ") for names in labels]
        pd.DataFrame({"Id": metadata["Id"], "Target": target}).to_csv(out / HPA_LABELS_CSV, index=False)
    elif layout == "kaggle-2021":
        label = [_indices({_TO_2021[n] for n in names}, HPA_KAGGLE_2021_CLASSES, "|") for names in labels]
        pd.DataFrame({"ID": metadata["Id"], "Label": label}).to_csv(out / HPA_LABELS_CSV, index=False)
    else:
        fov = pd.DataFrame(
            {"file": [f"images/{uid}.png" for uid in metadata["Id"]], "cell_type": metadata["cell_line"]}
        )
        flags = pd.DataFrame([[name in names for name in HPA_KAGGLE_2018_CLASSES] for names in labels])
        fov[list(HPA_KAGGLE_2018_CLASSES)] = flags.to_numpy()
        fov.to_csv(out / HPA_FOV_CSV, index=False)
    return metadata
