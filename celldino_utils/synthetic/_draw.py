"""Drawing primitives shared by the synthetic microscopy generators.

Everything here is generic and deterministic given a ``numpy.random.Generator``:
non-overlapping cell and nucleus label masks, smooth noise, textures that look
like organelles (filaments, reticular networks, puncta), illumination fields,
blur, camera noise and quantisation. Images are float32 arrays of shape (H, W)
with values roughly in [0, 1]; points are (N, 2) arrays of (y, x) pixel
coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class CellShape:
    """Geometry of one synthetic cell (pixel units, (y, x) order).

    Attributes
    ----------
    center, nucleus_center : tuple of float
        Centre of the cell body and of its nucleus.
    radius, nucleus_radius : float
        Mean radius of the cell and of the nucleus.
    angle : float
        Orientation of the long axis, radians.
    elongation : float
        Ratio of the long to the short axis of the cell.
    """

    center: tuple[float, float]
    nucleus_center: tuple[float, float]
    radius: float
    nucleus_radius: float
    angle: float
    elongation: float


@dataclass(frozen=True)
class CellLayout:
    """Non-overlapping cells of one field of view.

    Attributes
    ----------
    cells, nuclei : np.ndarray
        (H, W) int32 label masks, 0 = background, label k = cell ``shapes[k - 1]``
        in both masks; every nucleus lies inside its cell.
    cell_rho, nucleus_rho : np.ndarray
        (H, W) float32 normalised radius (0 at the centre, 1 on the boundary) inside
        each cell and nucleus, 0 elsewhere.
    shapes : tuple of CellShape
        One entry per label, in label order.
    """

    cells: np.ndarray
    nuclei: np.ndarray
    cell_rho: np.ndarray
    nucleus_rho: np.ndarray
    shapes: tuple[CellShape, ...]


def _star_rho(
    shape: tuple[int, int], center: tuple[float, float], axes: tuple[float, float], angle: float, harmonics: np.ndarray
) -> tuple[tuple[slice, slice], np.ndarray]:
    """Normalised radius of a perturbed ellipse over its bounding box (clipped to the image)."""
    reach = max(axes) * (1.0 + np.abs(harmonics[:, 0]).sum()) + 2.0
    y0, y1 = max(int(center[0] - reach), 0), min(int(center[0] + reach) + 2, shape[0])
    x0, x1 = max(int(center[1] - reach), 0), min(int(center[1] + reach) + 2, shape[1])
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dy, dx = yy - center[0], xx - center[1]
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / axes[0]
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / axes[1]
    theta = np.arctan2(v, u)
    wobble = 1.0 + sum(amp * np.cos(k * theta + phase) for k, (amp, phase) in enumerate(harmonics, start=2))
    return (slice(y0, y1), slice(x0, x1)), np.hypot(u, v) / np.maximum(wobble, 0.6)


def _try_place_cell(
    shape: tuple[int, int], taken: np.ndarray, radius: float, *, rng: np.random.Generator, params: dict[str, float]
) -> tuple[CellShape, tuple, np.ndarray, tuple, np.ndarray] | None:
    """Draw one candidate cell; return it with its boxes and radii, or None if it overlaps or leaves the frame."""
    elong = params["elongation"] * float(np.exp(rng.normal(0.0, 0.1)))
    angle = float(rng.uniform(0.0, np.pi))
    axes = (radius * np.sqrt(elong), radius / np.sqrt(elong))
    n_radius = params["nucleus_fraction"] * radius * float(rng.uniform(0.85, 1.1))
    n_elong = np.sqrt(elong)
    n_axes = (n_radius * np.sqrt(n_elong), n_radius / np.sqrt(n_elong))
    margin = n_axes[0] + 1.0
    center = (float(rng.uniform(margin, shape[0] - margin)), float(rng.uniform(margin, shape[1] - margin)))
    shift = params["nucleus_offset"] * axes[1] * rng.uniform(-1.0, 1.0, size=2)
    n_center = (center[0] + shift[0], center[1] + shift[1])
    if not (margin <= n_center[0] < shape[0] - margin and margin <= n_center[1] < shape[1] - margin):
        return None
    if taken[int(center[0]), int(center[1])] or taken[int(n_center[0]), int(n_center[1])]:
        return None
    harmonics = np.stack(
        [params["irregularity"] * rng.normal(size=4) / np.arange(2, 6), rng.uniform(0, 2 * np.pi, 4)], 1
    )
    box, rho = _star_rho(shape, center, axes, angle, harmonics)
    inside = rho <= 1.0
    if np.any(taken[box][rho <= 1.08]) or inside.sum() < 0.7 * np.pi * radius**2:
        return None
    n_harm = np.stack([0.3 * params["irregularity"] * rng.normal(size=4) / np.arange(2, 6), rng.uniform(0, 6.3, 4)], 1)
    n_box, n_rho = _star_rho(shape, n_center, n_axes, angle, n_harm)
    cell = CellShape(center, n_center, radius, n_radius, angle, elong)
    return cell, box, np.where(inside, rho, np.inf), n_box, n_rho


def random_cell_layout(
    shape: tuple[int, int],
    n_cells: int,
    *,
    rng: np.random.Generator,
    radius: float,
    elongation: float = 1.0,
    irregularity: float = 0.1,
    nucleus_fraction: float = 0.45,
    nucleus_offset: float = 0.15,
    max_tries: int = 60,
) -> CellLayout:
    """Place ``n_cells`` non-overlapping cells, each holding one nucleus.

    Parameters
    ----------
    shape : tuple of int
        Image shape (H, W).
    n_cells : int
        Number of cells; all are placed (a cell that does not fit after ``max_tries``
        attempts is retried 10 % smaller).
    rng : numpy.random.Generator
        Source of randomness.
    radius : float
        Mean cell radius in pixels (each cell varies by about 15 %).
    elongation : float
        Mean long/short axis ratio of the cells (1 = round).
    irregularity : float
        Amplitude of the boundary wobble (low angular harmonics).
    nucleus_fraction : float
        Nucleus radius as a fraction of the cell radius.
    nucleus_offset : float
        Largest shift of the nucleus from the cell centre, as a fraction of the short semi-axis.
    max_tries : int
        Attempts per cell size before shrinking.

    Returns
    -------
    CellLayout
        Label masks, normalised radii and per-cell geometry.
    """
    if n_cells < 0 or radius < 2.0:
        raise ValueError(f"n_cells must be >= 0 and radius >= 2 px, got n_cells={n_cells}, radius={radius}")
    params = {
        "elongation": elongation,
        "irregularity": irregularity,
        "nucleus_fraction": nucleus_fraction,
        "nucleus_offset": nucleus_offset,
    }
    cells, nuclei = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    cell_rho, nucleus_rho = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    shapes: list[CellShape] = []
    while len(shapes) < n_cells:
        size = radius * float(np.exp(rng.normal(0.0, 0.15)))
        placed = None
        while placed is None:
            if size < 2.0:
                raise ValueError(f"cannot fit {n_cells} cells of radius {radius:.1f} px into an image of shape {shape}")
            for _ in range(max_tries):
                placed = _try_place_cell(shape, cells > 0, size, rng=rng, params=params)
                if placed is not None:
                    break
            size *= 0.9
        cell, box, rho, n_box, n_rho = placed
        label = len(shapes) + 1
        inside = np.isfinite(rho)
        cells[box][inside], cell_rho[box][inside] = label, rho[inside]
        n_inside = (n_rho <= 1.0) & (cells[n_box] == label)
        nuclei[n_box][n_inside], nucleus_rho[n_box][n_inside] = label, n_rho[n_inside]
        shapes.append(cell)
    return CellLayout(cells, nuclei, cell_rho, nucleus_rho, tuple(shapes))


def anchor_points(layout: CellLayout, *, rng: np.random.Generator, reach: float = 1.25) -> np.ndarray:
    """(N, 2) point per cell just beside its nucleus, in a random direction, inside the cell (centrosome, Golgi)."""
    points = np.zeros((len(layout.shapes), 2), np.float32)
    for k, cell in enumerate(layout.shapes):
        phi = rng.uniform(0.0, 2 * np.pi)
        for frac in (reach, 1.0, 0.6, 0.0):
            point = np.add(cell.nucleus_center, frac * cell.nucleus_radius * np.array([np.sin(phi), np.cos(phi)]))
            iy, ix = np.rint(point).astype(int)
            if 0 <= iy < layout.cells.shape[0] and 0 <= ix < layout.cells.shape[1] and layout.cells[iy, ix] == k + 1:
                break
        points[k] = point
    return points


def cell_at(layout: CellLayout, points: np.ndarray) -> np.ndarray:
    """Label of the cell at each (N, 2) (y, x) point, 0 on background; points off the image take the nearest edge."""
    iy = np.clip(np.rint(points[:, 0]).astype(int), 0, layout.cells.shape[0] - 1)
    ix = np.clip(np.rint(points[:, 1]).astype(int), 0, layout.cells.shape[1] - 1)
    return layout.cells[iy, ix]


def boundary_rim(layout: CellLayout, *, part: str = "cell", width: float = 1.0) -> np.ndarray:
    """(H, W) band of about ``width`` px just inside each cell (``part="cell"``) or nucleus boundary, peak 1."""
    if part not in ("cell", "nucleus"):
        raise ValueError(f"part must be 'cell' or 'nucleus', got {part!r}")
    labels, rho = (layout.cells, layout.cell_rho) if part == "cell" else (layout.nuclei, layout.nucleus_rho)
    radii = np.array([1.0] + [c.radius if part == "cell" else c.nucleus_radius for c in layout.shapes], np.float32)
    return ((labels > 0) * np.exp(-(((1.0 - rho) * radii[labels] / width) ** 2))).astype(np.float32)


def normalise_peak(image: np.ndarray, *, q: float = 99.5) -> np.ndarray:
    """Divide by the ``q``-th percentile of the positive pixels (so bright structures sit near 1)."""
    positive = image[image > 1e-6]
    return (image / np.percentile(positive, q)).astype(np.float32) if positive.size else image.astype(np.float32)


def draw_puncta(shape: tuple[int, int], points: np.ndarray, *, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """(H, W) Gaussian spots of ``sigma`` px at (N, 2) points, brightness 0.4-1 each, peak about 1."""
    weights = rng.uniform(0.4, 1.0, len(points))
    return normalise_peak(gaussian_blur(splat_points(shape, points, weights=weights), sigma), q=99.9)


def draw_walks(
    layout: CellLayout,
    starts: np.ndarray,
    angles: np.ndarray,
    *,
    rng: np.random.Generator,
    length: float,
    turn_sd: float,
    blur: float,
) -> np.ndarray:
    """(H, W) image of persistent random walks of ``length`` px (filaments, tubules) from (N, 2) ``starts``,
    each confined to the cell it starts in (walks starting outside cells are dropped); peak about 1."""
    ids = cell_at(layout, starts)
    keep = ids > 0
    points, alive = random_walks(
        starts[keep],
        np.asarray(angles)[keep],
        n_steps=max(int(length / 0.5), 2),
        step=0.5,
        turn_sd=turn_sd,
        rng=rng,
        region=layout.cells,
        region_ids=ids[keep],
    )
    weights = alive * rng.uniform(0.5, 1.0, (len(points), 1))
    image = splat_points(layout.cells.shape, points.reshape(-1, 2), weights=weights.ravel())
    return normalise_peak(gaussian_blur(image, blur))


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Blur an (H, W) image with a Gaussian of ``sigma`` pixels (edges replicated); sigma 0 copies."""
    if sigma <= 0:
        return np.array(image, dtype=np.float32)
    return ndimage.gaussian_filter(np.asarray(image, np.float32), sigma, mode="nearest")


def smooth_noise(shape: tuple[int, int], *, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise of correlation length ``sigma`` px, scaled to zero mean and unit std."""
    field = gaussian_blur(rng.standard_normal(shape).astype(np.float32), sigma)
    return (field - field.mean()) / (field.std() + 1e-8)


def reticular_network(
    shape: tuple[int, int], *, rng: np.random.Generator, scale: float, width: float = 0.25
) -> np.ndarray:
    """Net of thin connected ridges (like endoplasmic reticulum), values in [0, 1].

    The ridges are the zero crossings of band-pass noise of mesh size about ``scale`` px;
    ``width`` sets their thickness relative to the noise amplitude.
    """
    band = gaussian_blur(rng.standard_normal(shape).astype(np.float32), scale / 3.0)
    band -= gaussian_blur(band, scale)
    band /= band.std() + 1e-8
    return np.exp(-((band / width) ** 2)).astype(np.float32)


def sample_points(weights: np.ndarray, n: int, *, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` (y, x) points, pixel chosen with probability proportional to ``weights`` (H, W), then jittered."""
    flat = np.clip(np.asarray(weights, np.float64).ravel(), 0.0, None)
    if n == 0 or flat.sum() <= 0:
        return np.zeros((0, 2), np.float32)
    idx = rng.choice(flat.size, size=n, p=flat / flat.sum())
    yx = np.stack(np.unravel_index(idx, weights.shape), axis=1).astype(np.float32)
    return yx + rng.uniform(-0.5, 0.5, size=yx.shape).astype(np.float32)


def splat_points(shape: tuple[int, int], points: np.ndarray, *, weights: np.ndarray | None = None) -> np.ndarray:
    """Accumulate (N, 2) sub-pixel (y, x) points into an (H, W) image with bilinear weights; outside points drop."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, np.float64).ravel()
    y0, x0 = np.floor(pts[:, 0]), np.floor(pts[:, 1])
    fy, fx = pts[:, 0] - y0, pts[:, 1] - x0
    out = np.zeros(shape[0] * shape[1])
    for dy, dx, wc in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yy, xx = y0 + dy, x0 + dx
        ok = (yy >= 0) & (yy < shape[0]) & (xx >= 0) & (xx < shape[1])
        idx = (yy[ok] * shape[1] + xx[ok]).astype(np.int64)
        out += np.bincount(idx, weights=(w * wc)[ok], minlength=out.size)
    return out.reshape(shape).astype(np.float32)


def random_walks(
    starts: np.ndarray,
    angles: np.ndarray,
    *,
    n_steps: int,
    step: float,
    turn_sd: float,
    rng: np.random.Generator,
    region: np.ndarray | None = None,
    region_ids: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Persistent random walks (filaments, tubules), optionally stopped when they leave their region.

    Parameters
    ----------
    starts : np.ndarray
        (N, 2) start points (y, x).
    angles : np.ndarray
        (N,) initial headings, radians.
    n_steps, step, turn_sd : int, float, float
        Number of steps, step length in px and std of the heading change per step (radians).
    rng : numpy.random.Generator
        Source of randomness.
    region, region_ids : np.ndarray, optional
        (H, W) label image and (N,) label of each walk: a walk stops for good at its first
        point outside its label.

    Returns
    -------
    points, alive : np.ndarray
        (N, n_steps, 2) points and (N, n_steps) float32 weights, 1 until the walk stops, then 0.
    """
    starts = np.asarray(starts, np.float32).reshape(-1, 2)
    heading = np.asarray(angles, np.float32)[:, None] + np.cumsum(
        rng.normal(0.0, turn_sd, size=(len(starts), n_steps)), axis=1
    ).astype(np.float32)
    moves = step * np.stack([np.sin(heading), np.cos(heading)], axis=-1)
    points = starts[:, None, :] + np.cumsum(moves, axis=1) - moves[:, :1]
    alive = np.ones(points.shape[:2], np.float32)
    if region is not None:
        iy = np.clip(np.rint(points[..., 0]).astype(int), 0, region.shape[0] - 1)
        ix = np.clip(np.rint(points[..., 1]).astype(int), 0, region.shape[1] - 1)
        ids = np.asarray(region_ids).reshape(-1, 1)
        inside = (region[iy, ix] == ids) & (points[..., 0] >= 0) & (points[..., 1] >= 0)
        inside &= (points[..., 0] < region.shape[0]) & (points[..., 1] < region.shape[1])
        alive = np.cumprod(inside, axis=1).astype(np.float32)
    return points, alive


def illumination_field(shape: tuple[int, int], *, angle: float, strength: float, vignetting: float = 0.0) -> np.ndarray:
    """Multiplicative (H, W) illumination: a linear ramp of relative amplitude ``strength`` along ``angle``
    times a radial fall-off losing ``vignetting`` of the intensity in the corners; mean about 1."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    yy, xx = yy / max(shape[0] - 1, 1) - 0.5, xx / max(shape[1] - 1, 1) - 0.5
    ramp = 1.0 + strength * (xx * np.cos(angle) + yy * np.sin(angle))
    fall = 1.0 - vignetting * (xx**2 + yy**2) / 0.5
    return (ramp * fall).astype(np.float32)


def camera_noise(image: np.ndarray, *, rng: np.random.Generator, photons: float, read_sd: float) -> np.ndarray:
    """Add shot noise (Gaussian approximation, ``photons`` per unit intensity) and read noise of std ``read_sd``."""
    image = np.clip(np.asarray(image, np.float32), 0.0, None)
    shot = np.sqrt(image / photons) * rng.standard_normal(image.shape).astype(np.float32)
    return image + shot + read_sd * rng.standard_normal(image.shape).astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Quantise an image in [0, 1] to uint8 (values outside are clipped)."""
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
