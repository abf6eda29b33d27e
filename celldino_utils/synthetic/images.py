"""A small plate of OME-TIFF fields, as a lab's own microscope writes it: the data of the ``images`` format.

Each field is one multi-channel OME-TIFF (16-bit, ``CYX``) whose OME metadata name its stains and pixel size,
named as an instrument names them (``r01c02f01.ome.tif``); fields come in more than one size. Cell label masks
lie beside them (``masks/{Id}_cells.png``), and ``platemap.csv`` gives each field's well and treatment. Treated
wells move the second stain from the cell body to its rim, so an embedding can tell the two apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from PIL import Image

from celldino_utils.io.files import CELL_MASK_SUFFIX, MASK_DIR
from celldino_utils.synthetic._draw import boundary_rim, camera_noise, gaussian_blur, random_cell_layout

#: The platemap written beside the fields: ``Metadata_Id``, ``Metadata_Well``, ``Metadata_treatment``.
PLATEMAP_CSV = "platemap.csv"
#: The three stains of the plate, as its OME metadata names them.
PLATE_CHANNELS = ("Hoechst 33342", "Phalloidin", "MitoTracker")
TREATMENTS = ("control", "treated")


def write_ome_tiff_plate(
    out_dir: str | Path,
    *,
    n_wells: int = 4,
    fields_per_well: int = 2,
    sizes: tuple[tuple[int, int], ...] = ((96, 96), (80, 112)),
    cells_per_field: int = 5,
    cell_radius: float = 11.0,
    pixel_size_um: float = 0.65,
    seed: int = 0,
) -> pd.DataFrame:
    """Write a plate of 3-channel OME-TIFF fields, their cell masks and a platemap into ``out_dir``.

    Parameters
    ----------
    n_wells, fields_per_well
        Wells of row A (``A01``...), half of them ``control`` and half ``treated``, and fields in each.
    sizes
        ``(H, W)`` of the fields, taken in turn: more than one gives a plate of mixed field sizes.
    cells_per_field, cell_radius
        Cells drawn in each field and their mean radius in pixels.
    pixel_size_um
        The pixel size written into the OME metadata.

    Returns
    -------
    pandas.DataFrame
        One row per field: ``Metadata_Id`` (the file name before ``.ome.tif``), ``Metadata_Well``,
        ``Metadata_treatment``, ``height``, ``width``, ``n_cells``; the same columns but the last three are
        written to ``platemap.csv``.
    """
    if n_wells < 2 or fields_per_well < 1 or cells_per_field < 1 or not sizes:
        raise ValueError("the plate needs at least 2 wells, 1 field per well, 1 cell per field and 1 field size")
    out_dir = Path(out_dir)
    (out_dir / MASK_DIR).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for well in range(n_wells):
        treatment = TREATMENTS[well * len(TREATMENTS) // n_wells]
        for field in range(fields_per_well):
            shape = sizes[(well * fields_per_well + field) % len(sizes)]
            field_id = f"r01c{well + 1:02d}f{field + 1:02d}"
            image, labels = _draw_field(shape, treatment, n_cells=cells_per_field, radius=cell_radius, rng=rng)
            tifffile.imwrite(
                out_dir / f"{field_id}.ome.tif",
                image,
                metadata={
                    "axes": "CYX",
                    "Channel": {"Name": list(PLATE_CHANNELS)},
                    "PhysicalSizeX": pixel_size_um,
                    "PhysicalSizeY": pixel_size_um,
                },
            )
            Image.fromarray(labels.astype(np.uint16)).save(out_dir / MASK_DIR / f"{field_id}{CELL_MASK_SUFFIX}")
            rows.append(
                {
                    "Metadata_Id": field_id,
                    "Metadata_Well": f"A{well + 1:02d}",
                    "Metadata_treatment": treatment,
                    "height": shape[0],
                    "width": shape[1],
                    "n_cells": int(labels.max()),
                }
            )
    fields = pd.DataFrame(rows)
    fields[["Metadata_Id", "Metadata_Well", "Metadata_treatment"]].to_csv(out_dir / PLATEMAP_CSV, index=False)
    return fields


def _draw_field(
    shape: tuple[int, int], treatment: str, *, n_cells: int, radius: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One field: uint16 ``(3, H, W)`` (nucleus, actin, mitochondria) and its ``(H, W)`` cell labels."""
    layout = random_cell_layout(shape, n_cells, rng=rng, radius=radius)
    body = (layout.cells > 0).astype(np.float32)
    actin = boundary_rim(layout, width=2.0).astype(np.float32) if treatment == "treated" else 0.6 * body
    puncta = (rng.random(shape) < 0.05) * body
    raw = np.stack([(layout.nuclei > 0).astype(np.float32), actin, gaussian_blur(puncta.astype(np.float32), 1.0) * 4])
    image = np.empty((3, *shape), np.uint16)
    for c in range(3):
        signal = 0.7 * gaussian_blur(raw[c], 1.0) + 0.05
        noisy = camera_noise(signal, rng=rng, photons=400.0, read_sd=0.01)
        image[c] = np.clip(noisy * 40000, 0, 65535).astype(np.uint16)
    return image, layout.cells
