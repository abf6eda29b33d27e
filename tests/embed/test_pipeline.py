from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from celldino_utils.embed import embed_data, load_embedding_model
from celldino_utils.io import read_profiles
from celldino_utils.models import build_backbone
from celldino_utils.synthetic import ensure_synthetic

TINY_VIT = {"arch": "vit_tiny", "patch_size": 16, "channel_mode": "all", "img_size": 32}


@pytest.fixture(scope="module")
def tiny_hpa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic("hpa", tmp_path_factory.mktemp("hpa") / "hpa", {"preset": "tiny"})


def _our_checkpoint(folder: Path, *, in_chans: int, channel_mode: str = "all") -> Path:
    """A checkpoint as our training writes it: a backbone state dict with config.yaml beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    model = build_backbone("vit_tiny", in_chans=in_chans, img_size=32, patch_size=16, channel_mode=channel_mode)
    torch.save({f"vit.{k}": v for k, v in model.vit.state_dict().items()}, folder / "teacher_backbone.pth")
    config = {
        "student": {
            "arch": "vit_tiny",
            "patch_size": 16,
            "channel_mode": channel_mode,
            "in_chans": in_chans,
            "layerscale": 0.0,
        },
        "crops": {"global_crops_size": 32},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder / "teacher_backbone.pth"


def test_fields_and_cells_keep_every_row_and_metadata(tiny_hpa: Path, tmp_path: Path) -> None:
    fields = read_profiles(
        embed_data(
            "hpa-kaggle", tiny_hpa, checkpoint="random", level="fov", out=tmp_path / "f.parquet", architecture=TINY_VIT
        )
    )
    assert len(fields) == 32 and fields.filter(like="emb_").shape[1] == 192
    assert {"Metadata_Id", "Metadata_cell_line", "Metadata_antibody", "Metadata_Target"} <= set(fields.columns)
    cells = read_profiles(
        embed_data(
            "hpa-kaggle",
            tiny_hpa,
            checkpoint="random",
            level="cell",
            crop_size=32,
            out=tmp_path / "c.parquet",
            architecture=TINY_VIT,
        )
    )
    assert {"Metadata_cell_id", "Metadata_center_x", "Metadata_center_y"} <= set(cells.columns)
    assert cells.groupby("Metadata_Id").size().sum() == len(cells) > len(fields)


def test_our_checkpoint_loads_with_its_recorded_architecture(tmp_path: Path) -> None:
    path = _our_checkpoint(tmp_path / "run", in_chans=4)
    model, info = load_embedding_model(path, in_chans=4)
    assert info["arch"] == "vit_tiny" and info["img_size"] == 32
    assert model(torch.rand(2, 4, 32, 32)).shape == (2, 192)


def test_channel_count_mismatch_is_refused(tmp_path: Path) -> None:
    path = _our_checkpoint(tmp_path / "run", in_chans=4)
    with pytest.raises(ValueError, match=r"trained on 4 channels, the data have 5"):
        load_embedding_model(path, in_chans=5)
    boc = _our_checkpoint(tmp_path / "boc", in_chans=4, channel_mode="boc")
    model, _ = load_embedding_model(boc, in_chans=5)
    assert model(torch.rand(1, 5, 32, 32)).shape == (1, 5 * 192)


def test_foreign_checkpoint_needs_its_architecture(tmp_path: Path) -> None:
    torch.save({"pos_embed": torch.zeros(1)}, tmp_path / "released.pth")
    with pytest.raises(ValueError, match=r"released.pth: no config.yaml beside it; pass \['arch'"):
        load_embedding_model(tmp_path / "released.pth", in_chans=4)
