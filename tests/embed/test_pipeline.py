from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from celldino_utils.augment import resize_shorter_side, self_normalize
from celldino_utils.embed import checkpoint_architecture, embed_data, load_embedding_model, random_init_twin
from celldino_utils.io import CELLPAINTING, HPA_KAGGLE, open_fields, read_profiles
from celldino_utils.models import TokenFeatures, build_backbone
from celldino_utils.synthetic import ensure_synthetic

HPA = HPA_KAGGLE.channels
TINY_VIT = {"arch": "vit_tiny", "patch_size": 16, "channel_mode": "all", "img_size": 32}


@pytest.fixture(scope="module")
def tiny_hpa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic("hpa", tmp_path_factory.mktemp("hpa") / "hpa", {"preset": "tiny"})


def our_checkpoint(
    folder: Path, *, in_chans: int, channel_mode: str = "all", field_px: int | None = None, depth: int | None = None
) -> Path:
    """A checkpoint as our training writes it: a backbone state dict (ViT-Tiny/16 at 32 px, ``depth`` blocks) with
    config.yaml beside it, recording the training scale ``data.field_px`` when given (runs before it was recorded:
    not), and ``student.depth`` when given (runs before the key existed: not)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = build_backbone(
        "vit_tiny", in_chans=in_chans, img_size=32, patch_size=16, channel_mode=channel_mode, depth=depth
    )
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
    if depth is not None:
        config["student"]["depth"] = depth
    if field_px is not None:
        config["data"] = {"format": "hpa-kaggle", "field_px": field_px}
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
    path = our_checkpoint(tmp_path / "run", in_chans=4)
    model, info = load_embedding_model(path, data_channels=HPA)
    assert info["arch"] == "vit_tiny" and info["img_size"] == 32
    assert model(torch.rand(2, 4, 32, 32)).shape == (2, 192)


def test_a_shallower_vit_is_rebuilt_with_its_recorded_depth(tmp_path: Path) -> None:
    path = our_checkpoint(tmp_path / "run", in_chans=4, depth=4)
    model, info = load_embedding_model(path, data_channels=HPA)
    assert info["depth"] == 4 and len(model.vit.blocks) == 4  # strict loading: a 12-block ViT would not take it
    twin, _ = load_embedding_model("random", data_channels=HPA, **random_init_twin(path))
    assert len(twin.vit.blocks) == 4
    assert (
        len(load_embedding_model(our_checkpoint(tmp_path / "old", in_chans=4), data_channels=HPA)[0].vit.blocks) == 12
    )


def test_the_training_scale_is_read_where_our_training_recorded_it(tmp_path: Path) -> None:
    recorded = our_checkpoint(tmp_path / "new", in_chans=4, field_px=128)
    assert checkpoint_architecture(recorded)["field_px"] == 128
    assert load_embedding_model(recorded, data_channels=HPA)[1]["field_px"] == 128
    assert checkpoint_architecture(our_checkpoint(tmp_path / "old", in_chans=4))["field_px"] is None
    twin = {**TINY_VIT, "field_px": 128}  # a random-init twin takes the trained model's scale with its architecture
    assert load_embedding_model("random", data_channels=HPA, **twin)[1]["field_px"] == 128


def test_default_embedding_brings_fields_to_the_training_scale_and_native_size_keeps_them(
    tiny_hpa: Path, tmp_path: Path
) -> None:
    # the tiny fields are 64 px; a model trained on 32 px fields sees them halved unless told otherwise
    checkpoint = our_checkpoint(tmp_path / "run", in_chans=4, field_px=32)
    model = TokenFeatures(load_embedding_model(checkpoint, data_channels=HPA)[0])
    fields = open_fields("hpa-kaggle", tiny_hpa)
    notes: list[str] = []
    options = {"checkpoint": checkpoint, "level": "fov", "limit": 2, "progress": False, "report": notes.append}
    sizes = {"default": None, "native": 64, "resize": 48}
    runs = {"default": {}, "native": {"native_size": True}, "resize": {"resize_size": 48, "native_size": True}}
    for name, extra in runs.items():
        got = read_profiles(embed_data("hpa-kaggle", tiny_hpa, out=tmp_path / f"{name}.parquet", **options, **extra))
        images = [fields[i] for i in range(2)]
        side = sizes[name] or 32
        expected = model(torch.stack([self_normalize(resize_shorter_side(im, size=side)) for im in images]))
        np.testing.assert_allclose(got.filter(like="emb_").to_numpy(), expected.detach().numpy(), atol=1e-5)
    assert notes[0] == "fields brought to the training scale (shorter side 32 px): 64 px x0.5 (2 fields)"
    assert notes[1].startswith("fields embedded at their native size (native_size; the model's training scale is 32")
    assert notes[2].startswith("fields resized to a shorter side of 48 px (resize_size): 64 px x0.75")


def test_channel_count_mismatch_is_refused(tmp_path: Path) -> None:
    path = our_checkpoint(tmp_path / "run", in_chans=4)
    with pytest.raises(ValueError, match=r"trained on 4 channels, the data have 5"):
        load_embedding_model(path, data_channels=CELLPAINTING.channels)
    boc = our_checkpoint(tmp_path / "boc", in_chans=4, channel_mode="boc")
    model, _ = load_embedding_model(boc, data_channels=CELLPAINTING.channels)
    assert model(torch.rand(1, 5, 32, 32)).shape == (1, 5 * 192)


def test_foreign_checkpoint_needs_its_architecture(tmp_path: Path) -> None:
    torch.save({"pos_embed": torch.zeros(1)}, tmp_path / "released.pth")
    with pytest.raises(ValueError, match=r"released.pth: no config.yaml beside it; pass \['arch'"):
        load_embedding_model(tmp_path / "released.pth", data_channels=HPA)
