"""Natural photographs for a small natural-image model: the sample images that ship inside installed packages.

The paper's Cell-DINO+ starts from DINOv2, a model trained on 142 million photographs. Nothing can be
downloaded in the default profile, so it stands in a ViT trained on the photographs that scikit-image and
scikit-learn install with themselves (public-domain and CC0 pictures of people, animals, objects, textures,
text and the sky). They are few, so each is resized and cut into square tiles of the size of the default's
fields; grayscale pictures are repeated into the three channels. Not synthetic, but made on the spot like the
synthetic data, and stamped the same way (``celldino_utils.synthetic.profile``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import skimage.data
import torch
from PIL import Image
from sklearn.datasets import load_sample_images

from celldino_utils.augment.cell import resize_shorter_side
from celldino_utils.synthetic._presets import config_from_preset

#: scikit-image photographs in its wheel (no download): people, animals, objects, textures, text, the sky.
SKIMAGE_PHOTOGRAPHS: tuple[str, ...] = (
    "astronaut", "brick", "camera", "chelsea", "clock", "coffee", "coins", "grass", "gravel",
    "hubble_deep_field", "moon", "page", "rocket", "stereo_motorcycle", "text",
)  # fmt: skip
#: scikit-learn's two sample photographs (``load_sample_images``), in its order.
SKLEARN_PHOTOGRAPHS: tuple[str, ...] = ("china", "flower")

PHOTOGRAPHS_INDEX = "photographs.csv"

PHOTOGRAPHS_PRESETS: dict[str, dict[str, int]] = {
    "default": {"tile_px": 128, "shorter_side": 384},
    "tiny": {"tile_px": 32, "shorter_side": 64},
}


@dataclass(frozen=True)
class PhotographsConfig:
    """How the sample photographs become tiles.

    Attributes
    ----------
    tile_px : int
        Side of the square tiles written, in pixels (the default's HPA fields are 128 px).
    shorter_side : int
        Each photograph's shorter side after resizing (antialiased), before it is cut into tiles; a multiple
        of ``tile_px`` keeps whole tiles along it.
    """

    tile_px: int = 128
    shorter_side: int = 384

    def __post_init__(self) -> None:
        for name in ("tile_px", "shorter_side"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 8:
                raise ValueError(f"{name}: expected an integer of at least 8 pixels, got {value!r}")
        if self.shorter_side < self.tile_px:
            raise ValueError(f"shorter_side: {self.shorter_side} is smaller than tile_px {self.tile_px}")


def photographs_preset(name: str, **overrides: object) -> PhotographsConfig:
    """Return the preset config ``name`` (see ``PHOTOGRAPHS_PRESETS``) with ``overrides`` (field=value) applied."""
    return config_from_preset(PhotographsConfig, PHOTOGRAPHS_PRESETS, name, overrides, kind="photographs")


def sample_photographs() -> dict[str, tuple[str, np.ndarray]]:
    """The installed sample photographs: ``{name: (package, uint8 (H, W, 3) array)}``, grayscale made RGB."""
    photographs = {}
    for name in SKIMAGE_PHOTOGRAPHS:
        image = getattr(skimage.data, name)()
        photographs[name] = ("scikit-image", image[0] if isinstance(image, tuple) else image)  # stereo: left view
    for name, image in zip(SKLEARN_PHOTOGRAPHS, load_sample_images().images, strict=True):
        photographs[name] = ("scikit-learn", image)
    return {name: (package, _rgb(image)) for name, (package, image) in photographs.items()}


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.array(image, dtype=np.uint8)  # a writable copy of the package's array
    return np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]


def _resize(image: np.ndarray, shorter_side: int) -> np.ndarray:
    """``(H, W, 3)`` uint8 resized (bilinear, antialiased) so that its shorter side is ``shorter_side``."""
    tensor = torch.from_numpy(image).permute(2, 0, 1).float()
    resized = resize_shorter_side(tensor, size=shorter_side)
    return resized.permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def generate_photographs(out_dir: str | Path, config: PhotographsConfig) -> pd.DataFrame:
    """Write the sample photographs as ``config.tile_px`` square RGB PNG tiles, in the ``photographs`` format.

    Parameters
    ----------
    out_dir
        Folder to write: ``{name}_r{row}_c{col}.png`` tiles and ``photographs.csv``.
    config
        Tile side and the resized photographs' shorter side.

    Returns
    -------
    pandas.DataFrame
        One row per tile (also written to ``photographs.csv``): ``file``, ``photograph``, ``package``, ``row``,
        ``col``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    side, rows = config.tile_px, []
    for name, (package, image) in sample_photographs().items():
        resized = _resize(image, config.shorter_side)
        for row in range(resized.shape[0] // side):
            for col in range(resized.shape[1] // side):
                tile = np.ascontiguousarray(resized[row * side : (row + 1) * side, col * side : (col + 1) * side])
                file = f"{name}_r{row}_c{col}.png"
                Image.fromarray(tile).save(out_dir / file, compress_level=1)
                rows.append({"file": file, "photograph": name, "package": package, "row": row, "col": col})
    table = pd.DataFrame(rows)
    table.to_csv(out_dir / PHOTOGRAPHS_INDEX, index=False)
    return table
