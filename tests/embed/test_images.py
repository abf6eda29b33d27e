"""``celldino embed --format images``: each real layout embedded at field and cell level, channels fed by name
(a bag of channels takes any, a fixed-channel model its own through ``--channel-map``), and the AnnData output
holding the same numbers, metadata and provenance as the Parquet output of the same run."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from celldino_utils.augment import EvalTransform
from celldino_utils.cli import main
from celldino_utils.embed import embed_data, load_embedding_model
from celldino_utils.io import read_profiles
from celldino_utils.models import TokenFeatures
from celldino_utils.synthetic.images import PLATE_CHANNELS, PLATEMAP_CSV, write_ome_tiff_plate

from ..images_layouts import CSV_CHANNELS, ZARR_CHANNELS, write_phenix_index, write_zarr_plate

BOC_VIT = {"arch": "vit_tiny", "patch_size": 16, "channel_mode": "boc", "img_size": 32}


def _ome_tiff(folder: Path) -> tuple[dict, tuple[str, ...], int, int]:
    truth = write_ome_tiff_plate(folder, n_wells=2, fields_per_well=2, cells_per_field=3)
    return {"metadata_csv": PLATEMAP_CSV}, PLATE_CHANNELS, len(truth), int(truth["n_cells"].sum())


def _ome_zarr(folder: Path) -> tuple[dict, tuple[str, ...], int, int]:
    return {}, ZARR_CHANNELS, len(write_zarr_plate(folder)), 8


def _csv_index(folder: Path) -> tuple[dict, tuple[str, ...], int, int]:
    return {"index_csv": "fields.csv"}, CSV_CHANNELS, len(write_phenix_index(folder)), 8


@pytest.mark.parametrize("layout", [_ome_tiff, _ome_zarr, _csv_index], ids=["ome-tiff", "ome-zarr", "csv-index"])
def test_each_layout_is_embedded_field_by_field_and_cell_by_cell(layout, tmp_path: Path) -> None:
    options, channels, n_fields, n_cells = layout(tmp_path / "data")
    for level, rows in (("fov", n_fields), ("cell", n_cells)):
        out = embed_data(
            "images",
            tmp_path / "data",
            checkpoint="random",
            level=level,
            crop_size=16,
            resize_size=32,
            center_crop=32,
            out=tmp_path / f"{level}.parquet",
            architecture=BOC_VIT,
            read_options=options,
            progress=False,
        )
        profiles = read_profiles(out)
        assert len(profiles) == rows and profiles.filter(like="emb_").shape[1] == 192 * len(channels)
        assert np.isfinite(profiles.filter(like="emb_").to_numpy()).all()
        provenance = profiles.attrs["provenance"]
        assert provenance["channels"] == list(channels) and provenance["format"] == "images"
    assert {"Metadata_cell_id", "Metadata_center_x"} <= set(profiles.columns)


def test_a_fixed_channel_model_takes_the_data_through_a_channel_map_in_its_own_order(tmp_path: Path) -> None:
    data = tmp_path / "csv"
    pixels = write_phenix_index(data)
    model_channels = ("Actin", "nucleus", "protein")
    architecture = {**BOC_VIT, "channel_mode": "all", "channels": model_channels}
    channel_map = {"nucleus": "DAPI", "protein": "GFP"}
    options = {"index_csv": "fields.csv", "channel_map": channel_map}
    out = embed_data(
        "images", data, checkpoint="random", level="fov", out=tmp_path / "f.parquet", architecture=architecture,
        read_options=options, resize_size=32, center_crop=32, progress=False, seed=3,
    )  # fmt: skip
    profiles = read_profiles(out)
    assert profiles.attrs["provenance"]["channels"] == list(model_channels)
    backbone, _ = load_embedding_model("random", data_channels=model_channels, seed=3, **architecture)
    model = TokenFeatures(backbone)

    def embedded(order: list[int]) -> np.ndarray:
        field = torch.from_numpy(pixels["P1_A01_1"][order] / 65535).float()
        with torch.inference_mode():
            return model(EvalTransform(crop_size=32, resize_size=32)(field)[None])[0].numpy()

    assert profiles["Metadata_Id"].iloc[0] == "P1_A01_1"
    first = profiles.filter(like="emb_").to_numpy()[0]
    np.testing.assert_allclose(first, embedded([2, 0, 1]), atol=1e-4)  # Actin, DAPI, GFP: the model's order
    assert not np.allclose(first, embedded([0, 1, 2]), atol=1e-2)  # the data's order would give another row


def test_a_channel_the_model_takes_and_the_data_lack_is_named_before_embedding(tmp_path: Path) -> None:
    write_phenix_index(tmp_path / "csv")
    architecture = {**BOC_VIT, "channel_mode": "all", "channels": ("DNA", "GFP", "Actin")}
    with pytest.raises(ValueError, match=r"takes DNA, GFP, Actin.*missing \['DNA'\], extra \['DAPI'\]"):
        embed_data(
            "images", tmp_path / "csv", checkpoint="random", level="fov", out=tmp_path / "x.parquet",
            architecture=architecture, read_options={"index_csv": "fields.csv"}, progress=False,
        )  # fmt: skip
    assert not (tmp_path / "x.parquet").exists()
    with pytest.raises(ValueError, match=r"channel_map: .* has no channel \['Hoechst'\]"):
        embed_data(
            "images", tmp_path / "csv", checkpoint="random", level="fov", out=tmp_path / "x.parquet",
            architecture=architecture, read_options={"index_csv": "fields.csv", "channel_map": {"DNA": "Hoechst"}},
            progress=False,
        )  # fmt: skip


def test_anndata_output_holds_the_numbers_metadata_and_provenance_of_the_parquet_output(tmp_path: Path) -> None:
    write_ome_tiff_plate(tmp_path / "plate", n_wells=2, fields_per_well=2, cells_per_field=3)
    command = ["embed", "--format", "images", "--data-dir", str(tmp_path / "plate"), "--level", "cell"]
    command += ["--read-option", f"metadata_csv={PLATEMAP_CSV}", "--crop-size", "16", "--checkpoint", "random"]
    command += ["--arch", "vit_tiny", "--patch-size", "16", "--img-size", "32", "--channel-mode", "boc"]
    command += ["--resize-size", "32", "--center-crop", "32", "--device", "cpu"]
    assert main([*command, "--out", str(tmp_path / "cells.parquet")]) == 0
    assert main([*command, "--out", str(tmp_path / "cells.h5ad")]) == 0
    parquet, anndata = read_profiles(tmp_path / "cells.parquet"), read_profiles(tmp_path / "cells.h5ad")
    pd.testing.assert_frame_equal(anndata, parquet)
    assert anndata.attrs["provenance"] == parquet.attrs["provenance"]
    assert anndata.attrs["provenance"]["transform"]["crop_size"] == 16
    with h5py.File(tmp_path / "cells.h5ad") as root:  # the layout anndata.read_h5ad reads
        assert root.attrs["encoding-type"] == "anndata" and root["X"].shape == (len(parquet), 576)
        assert root["obs"].attrs["encoding-type"] == "dataframe"
        assert list(root["obs"].attrs["column-order"]) == [c for c in parquet.columns if c.startswith("Metadata_")]
        assert root["obs/Metadata_treatment"].attrs["encoding-type"] == "categorical"
        assert list(root["uns/channels"].asstr()[...]) == list(PLATE_CHANNELS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.h5ad", "cells.parquet", "plate"]
