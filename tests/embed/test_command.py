"""`celldino embed` on the real on-disk formats: 2048-3072 px Kaggle HPA fields and 16-bit Cell Painting TIFFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from celldino_utils.augment import resize_shorter_side, self_normalize
from celldino_utils.cli import main
from celldino_utils.embed import load_embedding_model
from celldino_utils.io import HPA_KAGGLE, open_cells, open_fields, read_profiles, read_provenance
from celldino_utils.io import datasets as datasets_module
from celldino_utils.models import TokenFeatures, build_backbone, load_released_model
from celldino_utils.synthetic import generate_hpa, hpa_preset

from ..layouts import HPA_TAGS, TIFF_COMPRESSIONS, corrupt_pixels, write_phenix, write_png
from ..models.released_fixtures import parity_cases, save_official_weights
from .test_pipeline import our_checkpoint

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
    assert "the file holds a ViT of width 384 and depth 12 with 16 px patches over 5 channels" in error
    assert "cell_dino_cp_vits8 is a ViT of width 384 and depth 12 with 8 px patches over 5 channels" in error


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


#: Kaggle 2021 fields of mixed sizes in one folder, as the real data set has them, and their cells.
KAGGLE_2021 = {"a2048": (2048, 3), "b3072": (3072, 2), "c2048": (2048, 1)}


def _kaggle_2021(folder: Path, fields: dict[str, tuple[int, int]]) -> Path:
    """Kaggle 2021 fields ``{ID: (side, n_cells)}``: ``train.csv`` with ``ID,Label`` (``|``-separated), each channel a
    different smooth ramp (small PNGs), and a label mask ``masks/{ID}_cells.png`` of ``n_cells`` squares."""
    for i, (image_id, (side, n_cells)) in enumerate(fields.items()):
        ramp = np.add.outer(np.arange(side), np.arange(side)) // 16
        for c, tag in enumerate(HPA_TAGS):
            write_png(folder / "train" / f"{image_id}_{tag}.png", ((ramp + 40 * c + 90 * i) % 256).astype(np.uint8))
        labels = np.zeros((side, side), dtype=np.uint16)
        for k in range(n_cells):
            top = side // 8 + k * side // 4
            labels[top : top + side // 8, top : top + side // 6] = k + 1
        write_png(folder / "masks" / f"{image_id}_cells.png", labels)
    pd.DataFrame({"ID": list(fields), "Label": ["0|16", "18", "10"][: len(fields)]}).to_csv(
        folder / "train.csv", index=False
    )
    return folder


@pytest.fixture(scope="module")
def kaggle_2021(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _kaggle_2021(tmp_path_factory.mktemp("kaggle_2021"), KAGGLE_2021)


def test_mixed_2048_and_3072_px_fields_embed_at_the_training_scale_by_default(
    kaggle_2021: Path, tmp_path: Path, capsys
) -> None:
    checkpoint = our_checkpoint(tmp_path / "run", in_chans=4, field_px=128)
    out = tmp_path / "fields.parquet"
    command = ["embed", "--format", "hpa-kaggle", "--data-dir", str(kaggle_2021), "--level", "fov"]
    assert main([*command, "--out", str(out), "--checkpoint", str(checkpoint), "--device", "cpu"]) == 0
    note = capsys.readouterr().err
    assert "fields brought to the training scale (shorter side 128 px): 2048 px x0.0625 (2 fields), " in note
    assert "3072 px x0.04167 (1 field)" in note
    profiles = read_profiles(out)
    assert list(profiles["Metadata_Id"]) == list(KAGGLE_2021) and profiles.filter(like="emb_").shape == (3, 192)
    assert list(profiles["Metadata_Target"]) == ["0 16", "18", "10"]
    model = TokenFeatures(load_embedding_model(checkpoint, data_channels=HPA_KAGGLE.channels)[0])
    field = open_fields("hpa-kaggle", kaggle_2021)[1]  # 3072 px: embedded as 128 px
    expected = model(self_normalize(resize_shorter_side(field, size=128))[None]).detach().numpy()
    np.testing.assert_allclose(profiles.filter(like="emb_").to_numpy()[1:2], expected, atol=1e-5)


def test_cells_of_mixed_size_fields_give_one_row_per_mask_label(kaggle_2021: Path, tmp_path: Path, capsys) -> None:
    checkpoint = our_checkpoint(tmp_path / "run", in_chans=4, field_px=128)
    out = tmp_path / "cells.parquet"
    command = ["embed", "--format", "hpa-kaggle", "--data-dir", str(kaggle_2021), "--level", "cell", "--out", str(out)]
    assert main([*command, "--crop-size", "32", "--checkpoint", str(checkpoint), "--device", "cpu"]) == 0
    note = capsys.readouterr().err
    assert "32 px crops: 512 native px in 2048 px fields x0.0625 (2 fields), 768 native px in 3072" in note
    profiles = read_profiles(out)
    assert list(profiles["Metadata_Id"]) == ["a2048"] * 3 + ["b3072"] * 2 + ["c2048"]
    assert list(profiles["Metadata_cell_id"]) == [1, 2, 3, 1, 2, 1]
    assert profiles.filter(like="emb_").shape == (6, 192)


def _small_fields(folder: Path) -> Path:
    """Two square Kaggle 2021 fields of 64 and 96 px (for models of a 32 px training scale: x0.5 and x1/3)."""
    return _kaggle_2021(folder, {"s64": (64, 1), "s96": (96, 1)})


@pytest.mark.parametrize(
    ("options", "sides", "said"),
    [
        ([], (32, 32), "fields brought to the training scale (shorter side 32 px): 64 px x0.5 (1 field)"),
        (["--native-size"], (64, 96), "fields embedded at their native size (native_size; the model's training"),
        (["--resize-size", "48"], (48, 48), "fields resized to a shorter side of 48 px (resize_size): 64 px x0.75"),
    ],
    ids=["default", "native-size", "resize-size"],
)
def test_native_size_keeps_native_pixels_and_an_explicit_resize_size_wins(
    tmp_path: Path, capsys, options: list[str], sides: tuple[int, int], said: str
) -> None:
    data = _small_fields(tmp_path / "hpa")
    checkpoint = our_checkpoint(tmp_path / "run", in_chans=4, field_px=32)
    out = tmp_path / "fields.parquet"
    command = ["embed", "--format", "hpa-kaggle", "--data-dir", str(data), "--level", "fov", "--out", str(out)]
    assert main([*command, *options, "--checkpoint", str(checkpoint), "--device", "cpu"]) == 0
    assert capsys.readouterr().err.startswith(said)
    model = TokenFeatures(load_embedding_model(checkpoint, data_channels=HPA_KAGGLE.channels)[0])
    fields = open_fields("hpa-kaggle", data)
    expected = [model(self_normalize(resize_shorter_side(fields[i], size=s))[None]) for i, s in enumerate(sides)]
    got = read_profiles(out).filter(like="emb_").to_numpy()
    np.testing.assert_allclose(got, torch.cat(expected).detach().numpy(), atol=1e-5)


def test_released_model_without_a_stated_training_scale_embeds_native_fields(
    cellpainting_dir: Path, tmp_path: Path, capsys
) -> None:
    case = parity_cases()["cell_dino_cp_vits8"]
    weights = save_official_weights(case, tmp_path)
    out = tmp_path / "fields.parquet"
    command = ["embed", "--format", "cellpainting", "--data-dir", str(cellpainting_dir), "--level", "fov"]
    command += ["--model", "cell_dino_cp_vits8", "--weights", str(weights), "--out", str(out), "--device", "cpu"]
    assert main(command) == 0
    note = capsys.readouterr().err
    assert note.startswith("fields embedded at their native size (the model does not record its training scale")
    assert "24 px (2 fields)" in note
    model = TokenFeatures(load_released_model("cell_dino_cp_vits8", weights=weights))
    fields = open_fields("cellpainting", cellpainting_dir, channels=("DNA", "RNA", "ER", "AGP", "Mito"))
    expected = model(torch.stack([self_normalize(fields[i]) for i in range(2)])).detach().numpy()
    np.testing.assert_allclose(read_profiles(out).filter(like="emb_").to_numpy(), expected, atol=1e-4)


def test_read_options_reach_the_reader_and_unknown_ones_are_named(tmp_path: Path, capsys) -> None:
    """The Cell-DINO HPA-FoV layout with its table under another name, as a download may have it."""
    data = tmp_path / "hpa_fov"
    generate_hpa(data, hpa_preset("tiny"), layout="hpa-fov")
    (data / "fov.csv").rename(data / "S-BIAD2443_fields.csv")
    out = tmp_path / "fields.parquet"
    command = ["embed", "--format", "hpa-fov", "--data-dir", str(data), "--level", "fov", "--out", str(out)]
    assert main([*command, "--read-option", "labels_csv=S-BIAD2443_fields.csv", *RANDOM_VIT]) == 0
    assert len(read_profiles(out)) == len(pd.read_csv(data / "S-BIAD2443_fields.csv"))
    assert main([*command, "--read-option", "labels=fov.csv", *RANDOM_VIT]) == 2
    assert (
        "hpa-fov: unknown read option(s) ['labels']; the hpa-fov reader takes ['labels_csv'" in capsys.readouterr().err
    )


def _embed_phenix_cells(data: Path, out: Path) -> int:
    command = ["embed", "--format", "cellpainting", "--data-dir", str(data), "--level", "cell", "--crop-size", "16"]
    return main([*command, "--out", str(out), *RANDOM_VIT])


def test_compressed_phenix_tiffs_embed_exactly_like_their_uncompressed_twin(tmp_path: Path) -> None:
    assert _embed_phenix_cells(write_phenix(tmp_path / "plain"), tmp_path / "plain.parquet") == 0
    plain = read_profiles(tmp_path / "plain.parquet")
    assert len(plain) == 6
    for compression in TIFF_COMPRESSIONS:
        out = tmp_path / f"{compression}.parquet"
        assert _embed_phenix_cells(write_phenix(tmp_path / compression, compression=compression), out) == 0
        pd.testing.assert_frame_equal(read_profiles(out), plain, check_exact=True, obj=compression)


def test_an_undecodable_tiff_stops_embed_before_anything_is_embedded(tmp_path: Path, capsys) -> None:
    data = write_phenix(tmp_path / "zstd", compression="zstd")
    table = pd.read_csv(data / "load_data.csv")
    dna = Path(table.loc[0, "PathName_OrigDNA"]) / table.loc[0, "FileName_OrigDNA"]
    corrupt_pixels(dna)
    out = tmp_path / "cells.parquet"
    assert _embed_phenix_cells(data, out) == 2
    error = capsys.readouterr().err
    assert f"the first image of channel DNA cannot be read: unreadable image file {dna}: " in error
    assert not out.exists() and not list(tmp_path.glob("cells*"))


def test_channels_option_names_the_order_of_a_checkpoint_without_config(
    cellpainting_dir: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "x.parquet"
    command = ["embed", "--format", "cellpainting", "--data-dir", str(cellpainting_dir), "--level", "cell"]
    command += ["--crop-size", "16", "--out", str(out), *RANDOM_VIT, "--channels"]
    assert main([*command, "DNA", "RNA", "ER", "AGP", "Mito"]) == 0
    assert read_provenance(out)["channels"] == ["DNA", "RNA", "ER", "AGP", "Mito"]
    assert main([*command, "DNA", "RNA", "ER", "Actin", "Mito"]) == 2
    assert "missing ['Actin'], extra ['AGP']" in capsys.readouterr().err
