"""Channel layouts of every supported on-disk format, declared once.

Every reader stacks channels in the order declared here: a wrong channel order
silently ruins an embedding, so it is never left to the caller. Where the file
names carry the channel (HPA ``{Id}_green.png``) the order is checked on each
read; where a table names the file of each channel (Cell Painting
``load_data.csv``, whose files are named by the instrument), only that table's
columns say which file is which stain.

A model takes channels by name, in its own order (:meth:`ChannelLayout.reordered` puts a reader's
channels in it); the order declared here is only the order a reader stacks them in. Runs of our training
record the names they were fed; a run from before they were recorded is taken to have been fed its format's
order below, so these orders are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass

TAGGED_BY = ("file name", "column")


@dataclass(frozen=True)
class ChannelLayout:
    """Names, file tags and order of the channels of one data format.

    Attributes
    ----------
    format : str
        Name of the on-disk format (``hpa-kaggle``, ``hpa-fov``, ``cellpainting``).
    channels : tuple of str
        Biological channel names, in tensor order.
    file_tags : tuple of str
        How each channel is named on disk: a file name suffix, or the tag of the ``FileName_Orig*`` column.
    protein_index : int or None
        Index of the protein-of-interest channel, or None when there is none.
    tagged_by : str
        ``"file name"``: ``file_tags`` end the image file names, checked on each read;
        ``"column"``: ``file_tags`` name the index columns that list the files, whatever their names.
    """

    format: str
    channels: tuple[str, ...]
    file_tags: tuple[str, ...]
    protein_index: int | None = None
    tagged_by: str = "file name"

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.file_tags):
            raise ValueError(f"{self.format}: {len(self.channels)} channels but {len(self.file_tags)} file tags")
        if self.protein_index is not None and not 0 <= self.protein_index < len(self.channels):
            raise ValueError(f"{self.format}: protein_index {self.protein_index} is out of range")
        if self.tagged_by not in TAGGED_BY:
            raise ValueError(f"{self.format}: tagged_by must be one of {TAGGED_BY}, got {self.tagged_by!r}")

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    def reordered(self, channels: tuple[str, ...] | list[str]) -> ChannelLayout:
        """This layout with its channels (and file tags, and protein index) in the order ``channels``.

        Raises
        ------
        ValueError
            Unless ``channels`` holds each of this layout's channels once (naming what is missing or extra).
        """
        positions = channel_positions(self.channels, channels, source=f"{self.format} data")
        protein = None if self.protein_index is None else positions.index(self.protein_index)
        return ChannelLayout(
            format=self.format,
            channels=tuple(self.channels[i] for i in positions),
            file_tags=tuple(self.file_tags[i] for i in positions),
            protein_index=protein,
            tagged_by=self.tagged_by,
        )

    def check_order(self, names: list[str] | tuple[str, ...], *, source: str) -> None:
        """Raise ValueError naming ``source`` unless ``names`` is exactly this layout's channel order."""
        if tuple(names) != self.channels:
            raise ValueError(
                f"{source}: channels {list(names)} do not match the {self.format} order {list(self.channels)}"
            )


def channel_positions(
    available: tuple[str, ...] | list[str], wanted: tuple[str, ...] | list[str], *, source: str
) -> tuple[int, ...]:
    """Where each channel of ``wanted`` is in ``available``: ``available[positions[k]] == wanted[k]``.

    Parameters
    ----------
    available
        The data's channel names, in the order they come.
    wanted
        The names a model takes, in its input order: the same names, each once.
    source
        Names the data in the error message.

    Raises
    ------
    ValueError
        Naming the channels the data lack, those they have beyond the wanted ones, and any name twice.
    """
    problems = {
        "missing": [name for name in wanted if name not in available],
        "extra": [name for name in available if name not in wanted],
        "twice": sorted({name for name in wanted if list(wanted).count(name) > 1}),
    }
    if any(problems.values()):
        found = ", ".join(f"{label} {names}" for label, names in problems.items() if names)
        raise ValueError(f"{source}: channels {list(available)} cannot be fed as {list(wanted)}: {found}")
    return tuple(list(available).index(name) for name in wanted)


#: HPA Kaggle layout, one 8-bit PNG per channel: ``{Id}_red.png`` ... ``{Id}_yellow.png``.
HPA_KAGGLE = ChannelLayout(
    format="hpa-kaggle",
    channels=("microtubules", "protein", "nucleus", "er"),
    file_tags=("red", "green", "blue", "yellow"),
    protein_index=1,
)

#: Official Cell-DINO HPA-FoV layout: one multi-channel image per field, same channel order.
HPA_FOV = ChannelLayout(
    format="hpa-fov",
    channels=HPA_KAGGLE.channels,
    file_tags=HPA_KAGGLE.file_tags,
    protein_index=1,
)

#: Cell Painting, one 16-bit TIFF per channel, listed in ``load_data.csv`` by ``FileName_Orig{tag}``
#: (files may have any name, e.g. the Opera Phenix ``r03c03f03p01-ch5sk1fk1fl1.tiff``).
CELLPAINTING = ChannelLayout(
    format="cellpainting",
    channels=("DNA", "ER", "RNA", "AGP", "Mito"),
    file_tags=("DNA", "ER", "RNA", "AGP", "Mito"),
    protein_index=None,
    tagged_by="column",
)

#: Natural photographs, one RGB file (PNG, JPEG or TIFF) per image: the data of a natural-image model
#: (Cell-DINO+ starts from one); a folder of them, any names (``celldino_utils.io.photographs``).
PHOTOGRAPHS = ChannelLayout(
    format="photographs",
    channels=("red", "green", "blue"),
    file_tags=("red", "green", "blue"),
    protein_index=None,
)

LAYOUTS: dict[str, ChannelLayout] = {
    layout.format: layout for layout in (HPA_KAGGLE, HPA_FOV, CELLPAINTING, PHOTOGRAPHS)
}

#: Fields of any file format bioio reads, with channels named by the data (``celldino_utils.io.bioimages``):
#: no fixed layout, its channels are known once its files are indexed (:func:`named_layout`).
IMAGES = "images"
#: Every data format a reader takes: those of a fixed layout, and ``images``.
FORMATS: tuple[str, ...] = (*sorted(LAYOUTS), IMAGES)


def get_layout(format: str) -> ChannelLayout:
    """Return the channel layout of ``format``; raise ValueError naming the known ones."""
    if format == IMAGES:
        raise ValueError(f"the {IMAGES} format names its channels in its data: index it to know them")
    if format not in LAYOUTS:
        raise ValueError(f"unknown data format {format!r}; choose one of {list(FORMATS)}")
    return LAYOUTS[format]


def named_layout(channels: tuple[str, ...] | list[str]) -> ChannelLayout:
    """The layout of an ``images`` data set whose fields hold the channels ``channels``, in that order."""
    return ChannelLayout(format=IMAGES, channels=tuple(channels), file_tags=tuple(channels), tagged_by="column")
