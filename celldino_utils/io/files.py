"""File and folder names of the supported on-disk layouts, declared once for the writers and the readers.

The synthetic generators write these names and the readers default to them, so the two cannot drift apart;
real downloads use the same names (the Kaggle ``train.csv``, CellProfiler's ``load_data.csv``).
"""

from __future__ import annotations

#: HPA Kaggle layout: the labels table (``Id,Target`` or ``ID,Label``) and the folder of channel images.
HPA_LABELS_CSV = "train.csv"
HPA_IMAGE_DIR = "train"
#: Cell-DINO HPA-FoV layout: the table of fields (``file``, ``cell_type``, 28 class columns) and their images.
HPA_FOV_CSV = "fov.csv"
HPA_FOV_IMAGE_DIR = "images"
#: An optional per-image table with an ``Id`` column (cell line, plate, antibody...), joined when present.
HPA_METADATA_CSV = "metadata.csv"
#: Label masks of single cells and nuclei (0 = background, one integer per object): ``masks/{Id}_cells.png``.
MASK_DIR = "masks"
CELL_MASK_SUFFIX = "_cells.png"
NUCLEUS_MASK_SUFFIX = "_nuclei.png"
#: The options of ``open_cells`` that say where a data set's cells are (masks or nucleus tables), beside those of
#: its format's index reader.
CELL_OPTIONS = ("mask_dir", "mask_suffix", "nuclei")
#: One row per synthetic cell with its planted truth (not part of the real downloads).
CELLS_CSV = "cells.csv"
#: Cell Painting: CellProfiler's per-site image table and the per-nucleus object table.
LOAD_DATA_CSV = "load_data.csv"
NUCLEI_CSV = "nuclei.csv"
