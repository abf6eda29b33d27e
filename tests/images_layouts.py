"""Small data sets of the ``images`` format in real layouts: an OME-Zarr plate as the IDR serves them, and a CSV
index of per-channel TIFFs named as an Opera Phenix names them (OME-TIFF plates come from
``celldino_utils.synthetic.images``). Every field has a cell mask ``masks/{Id}_cells.png``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
import zarr
from PIL import Image

ZARR_CHANNELS = ("DAPI", "GFP")
CSV_CHANNELS = ("DAPI", "GFP", "Actin")


def write_mask(folder: Path, field_id: str, shape: tuple[int, int], *, n_cells: int = 2) -> None:
    """A label mask of ``n_cells`` square cells along the diagonal of a field of ``shape``."""
    labels = np.zeros(shape, np.uint16)
    step = min(shape) // (n_cells + 1)
    for k in range(n_cells):
        labels[k * step + 2 : k * step + step, k * step + 2 : k * step + step] = k + 1
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    Image.fromarray(labels).save(folder / "masks" / f"{field_id}_cells.png")


def write_zarr_plate(folder: Path, *, shape: tuple[int, int] = (40, 48), seed: int = 0) -> dict[str, np.ndarray]:
    """An OME-Zarr (NGFF 0.4, zarr v2) plate ``P1.ome.zarr``: wells A/1 and A/2, two fields each, 5-D ``tczyx``
    arrays of two labelled channels, and masks. Returns each field's ``Metadata_Id`` -> its ``(C, H, W)`` pixels."""
    rng = np.random.default_rng(seed)
    store = folder / "P1.ome.zarr"
    plate = zarr.open_group(str(store), mode="w", zarr_format=2)
    wells = [{"path": f"A/{column}", "rowIndex": 0, "columnIndex": column - 1} for column in (1, 2)]
    plate.attrs["plate"] = {
        "name": "P1",
        "version": "0.4",
        "rows": [{"name": "A"}],
        "columns": [{"name": "1"}, {"name": "2"}],
        "wells": wells,
        "field_count": 2,
    }
    axes = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"}]
    axes += [{"name": axis, "type": "space"} for axis in "zyx"]
    pixels = {}
    for well in wells:
        group = plate.require_group(well["path"])
        group.attrs["well"] = {"images": [{"path": "0"}, {"path": "1"}], "version": "0.4"}
        for site in range(2):
            image = group.require_group(str(site))
            image.attrs["multiscales"] = [
                {
                    "version": "0.4",
                    "axes": axes,
                    "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1] * 5}]}],
                }
            ]
            image.attrs["omero"] = {"channels": [{"label": name} for name in ZARR_CHANNELS]}
            data = rng.integers(0, 65536, (1, len(ZARR_CHANNELS), 1, *shape), dtype=np.uint16)
            image.create_array("0", data=data, chunks=data.shape)
            field_id = f"P1_{well['path'].replace('/', '')}_{site}"
            pixels[field_id] = data[0, :, 0]
            write_mask(folder, field_id, shape)
    return pixels


def write_phenix_index(folder: Path, *, shape: tuple[int, int] = (36, 44), seed: int = 1) -> dict[str, np.ndarray]:
    """A CSV index ``fields.csv`` of two wells, two sites each, one 16-bit TIFF per channel under ``Images/`` named
    by the instrument (``r01c01f01p01-ch1sk1fk1fl1.tiff``), listed by ``FileName_<channel>`` and ``PathName_<channel>``
    columns in the order DAPI, GFP, Actin (the files' ``chN`` numbers run Actin, DAPI, GFP). Returns each field's
    ``Metadata_Id`` -> its ``(C, H, W)`` pixels in column order."""
    rng = np.random.default_rng(seed)
    (folder / "Images").mkdir(parents=True, exist_ok=True)
    instrument_channel = {"Actin": 1, "DAPI": 2, "GFP": 3}
    rows, pixels = [], {}
    for column, well in ((1, "A01"), (2, "A02")):
        for site in (1, 2):
            row = {"Metadata_Plate": "P1", "Metadata_Well": well, "Metadata_Site": site}
            planes = []
            for channel in CSV_CHANNELS:
                name = f"r01c{column:02d}f{site:02d}p01-ch{instrument_channel[channel]}sk1fk1fl1.tiff"
                plane = rng.integers(0, 65536, shape, dtype=np.uint16)
                tifffile.imwrite(folder / "Images" / name, plane)
                row[f"FileName_{channel}"], row[f"PathName_{channel}"] = name, "Images"
                planes.append(plane)
            rows.append(row)
            pixels[f"P1_{well}_{site}"] = np.stack(planes)
            write_mask(folder, f"P1_{well}_{site}", shape)
    pd.DataFrame(rows).to_csv(folder / "fields.csv", index=False)
    return pixels
