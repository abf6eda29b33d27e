"""`celldino embed` on the real on-disk formats: 2048 px Kaggle HPA fields and 16-bit Cell Painting TIFFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from celldino_utils.cli import main
from celldino_utils.io import datasets as datasets_module
from celldino_utils.io import open_cells, open_fields, read_profiles
from celldino_utils.models import build_backbone

from ..layouts import HPA_TAGS, write_png
from ..models.released_fixtures import parity_cases, save_official_weights

RANDOM_VIT = ["--checkpoint", "random", "--arch", "vit_tiny", "--patch-size", "16", "--img-size", "32"]
RANDOM_VIT += ["--channel-mode", "all", "--device", "cpu"]


def _kaggle_2048(folder: Path) -> Path:
    """Two 2048 x 2048 fields in the Kaggle 2018 layout; each channel a different smooth ramp (small PNGs)."""
    ramp = np.add.outer(np.arange(2048), np.arange(2048)) // 16
    for i in range(2):
        for c, tag in enumerate(HPA_TAGS):
            write_png(folder / "train" / f"big{i}_{tag}.png", ((ramp + 40 * c + 90 * i) % 256).astype(np.uint8))
    pd.DataFrame({"Id": ["big0", "big1"], "Target": ["0", "16 25"]}).to_csv(folder / "train.csv", index=False)
    return folder


def test_kaggle_fields_at_native_2048_px_are_read_and_embedded(tmp_path: Path) -> None:
    data = _kaggle_2048(tmp_path / "hpa")
    fields = open_fields("hpa-kaggle", data)
    assert tuple(fields[0].shape) == (4, 2048, 2048)
    out = tmp_path / "fields.parquet"
    command = ["embed", "--format", "hpa-kaggle", "--data-dir", str(data), "--level", "fov", "--out", str(out)]
    assert main([*command, "--resize-size", "128", *RANDOM_VIT]) == 0
    profiles = read_profiles(out)
    assert list(profiles["Metadata_Id"]) == ["big0", "big1"] and profiles.filter(like="emb_").shape == (2, 192)
    assert not np.allclose(*profiles.filter(like="emb_").to_numpy())


def test_cellpainting_16_bit_tiffs_are_embedded_cell_by_cell(cellpainting_dir: Path, tmp_path: Path) -> None:
    cells = open_cells("cellpainting", cellpainting_dir, crop_size=16)
    assert cells[0].dtype.is_floating_point and float(cells[0].max()) <= 1.0  # 16-bit read as [0, 1]
    out = tmp_path / "cells.parquet"
    command = ["embed", "--format", "cellpainting", "--data-dir", str(cellpainting_dir), "--level", "cell"]
    assert main([*command, "--out", str(out), "--crop-size", "16", *RANDOM_VIT]) == 0
    profiles = read_profiles(out)
    assert len(profiles) == 4 and list(profiles["Metadata_Well"]) == ["A01", "A01", "B02", "B02"]


def test_released_model_embeds_cells_by_name_without_architecture_flags(cellpainting_dir: Path, tmp_path: Path) -> None:
    case = parity_cases()["cell_dino_cp_vits8"]
    weights = save_official_weights(case, tmp_path)
    out = tmp_path / "cells.parquet"
    command = ["embed", "--format", "cellpainting", "--data-dir", str(cellpainting_dir), "--level", "cell"]
    command += ["--model", "cell_dino_cp_vits8", "--weights", str(weights), "--crop-size", "16", "--out", str(out)]
    assert main([*command, "--device", "cpu"]) == 0
    profiles = read_profiles(out)
    assert len(profiles) == 4 and profiles.filter(like="emb_").shape[1] == 384


def test_wrong_weights_fail_before_any_image_is_read(
    cellpainting_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    vits16 = build_backbone("vit_small", in_chans=5, img_size=128, patch_size=16, layerscale=1.0)
    torch.save({k.removeprefix("vit."): v for k, v in vits16.state_dict().items()}, tmp_path / "vits16.pth")

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("an image was read before the weights were checked")

    monkeypatch.setattr(datasets_module, "read_image", no_reading)
    monkeypatch.setattr(datasets_module, "stack_channels", no_reading)
    command = ["embed", "--format", "cellpainting", "--data-dir", str(cellpainting_dir), "--level", "cell"]
    command += ["--model", "cell_dino_cp_vits8", "--weights", str(tmp_path / "vits16.pth")]
    assert main([*command, "--out", str(tmp_path / "x.parquet"), "--device", "cpu"]) == 2
    error = capsys.readouterr().err
    assert "'pos_embed' has shape (1, 65, 384), the model expects (1, 257, 384)" in error
    assert "(and 1 more: 'patch_embed.proj.weight')" in error


def test_phenix_named_cellpainting_sites_embed_cell_by_cell(phenix_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "phenix.parquet"
    command = ["embed", "--format", "cellpainting", "--data-dir", str(phenix_dir), "--level", "cell"]
    assert main([*command, "--out", str(out), "--crop-size", "16", *RANDOM_VIT]) == 0
    profiles = read_profiles(out)
    assert len(profiles) == 6 and set(profiles["Metadata_Plate"]) == {"SQ00015096"}


def test_channel_map_option_is_checked(cellpainting_dir: Path, tmp_path: Path, capsys) -> None:
    command = ["embed", "--format", "cellpainting", "--data-dir", str(cellpainting_dir), "--level", "cell"]
    command += ["--out", str(tmp_path / "x.parquet"), *RANDOM_VIT]
    assert main([*command, "--channel-map", "DNA:Hoechst"]) == 2
    assert "--channel-map: expected OURS=THEIRS (e.g. DNA=Hoechst), got ['DNA:Hoechst']" in capsys.readouterr().err
    assert main([*command, "--channel-map", "DNA=Hoechst"]) == 2
    assert "FileName_OrigHoechst (channel DNA)" in capsys.readouterr().err
