from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from IPython.display import Markdown

from celldino_utils.chapters import EmbedJob, ModelRun, embed_suite, train_or_take
from celldino_utils.chapters.training import plus_plan, run_overrides, shared_overrides, training_crops_figure
from celldino_utils.io import open_fields, read_profiles
from celldino_utils.models import build_backbone
from celldino_utils.synthetic import ensure_synthetic

from ..models.released_fixtures import parity_cases, save_official_weights

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "train" / "hpa_tiny_cpu.yaml"


@pytest.fixture(scope="module")
def tiny_hpa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic("hpa", tmp_path_factory.mktemp("hpa") / "hpa", {"preset": "tiny"})


def _checkpoint(folder: Path, *, seed: int) -> Path:
    """A 4-channel ViT-Tiny/16 saved as our training writes it, with its weights drawn after ``seed``."""
    folder.mkdir(parents=True)
    torch.manual_seed(seed)
    model = build_backbone("vit_tiny", in_chans=4, img_size=32, patch_size=16, layerscale=0.0)
    torch.save({f"vit.{k}": v for k, v in model.vit.state_dict().items()}, folder / "teacher_backbone.pth")
    config = {
        "student": {"arch": "vit_tiny", "patch_size": 16, "channel_mode": "all", "in_chans": 4, "layerscale": 0.0},
        "crops": {"global_crops_size": 32},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder / "teacher_backbone.pth"


def test_a_checkpoint_equal_to_its_random_init_twin_embeds_the_same(tiny_hpa: Path, tmp_path: Path) -> None:
    """Weights drawn with the twin's seed are the twin: the training check's floor is the same architecture."""
    checkpoint = _checkpoint(tmp_path / "run", seed=0)
    job = EmbedJob("hpa", "fov", "hpa-kaggle", tiny_hpa, checkpoint)
    written = embed_suite([job], out_dir=tmp_path / "out", seed=0, progress=False)
    assert list(written["features"]) == ["celldino", "random"]
    trained, twin = (read_profiles(path) for path in written["file"])
    assert list(trained["Metadata_Id"]) == list(open_fields("hpa-kaggle", tiny_hpa).metadata["Metadata_Id"])
    np.testing.assert_allclose(trained.filter(like="emb_"), twin.filter(like="emb_"), atol=1e-5)


def test_a_checkpoint_without_its_config_has_no_random_init_twin(tiny_hpa: Path, tmp_path: Path) -> None:
    checkpoint = _checkpoint(tmp_path / "run", seed=0)
    (checkpoint.parent / "config.yaml").unlink()
    with pytest.raises(FileNotFoundError, match="config.yaml"):
        embed_suite([EmbedJob("hpa", "fov", "hpa-kaggle", tiny_hpa, checkpoint)], out_dir=tmp_path, progress=False)


def test_a_released_model_is_taken_and_checked_not_trained(tmp_path: Path) -> None:
    case = parity_cases()["vit_tiny_p16_4ch"]
    save_official_weights(case, tmp_path)
    card = tmp_path / "hpa_vitt16.yaml"
    card.write_text("like: cell_dino_hpa_vitl16_fov\narch: vit_tiny\nimg_size: 64\nweights: vit_tiny_p16_4ch.pth\n")
    run = train_or_take(CONFIG, ["no.such.key=1"], pretrained=card)
    assert run.checkpoint == card and run.log is None
    assert run.overview().loc[0, "architecture"] == "vit_tiny/16"


def test_a_taken_model_has_no_training_crops(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="taken as released"):
        ModelRun(checkpoint="cell_dino_cp_vits8", log=None).training_crops(None, [0])  # type: ignore[arg-type]


def test_a_taken_model_with_the_wrong_weights_stops_the_chapter(tmp_path: Path) -> None:
    save_official_weights(parity_cases()["vit_tiny_p16_4ch"], tmp_path)
    card = tmp_path / "hpa_vits16.yaml"
    card.write_text("like: cell_dino_hpa_vitl16_fov\narch: vit_small\nimg_size: 64\nweights: vit_tiny_p16_4ch.pth\n")
    with pytest.raises(ValueError, match=r"holds a ViT of width 192 .*; hpa_vits16 is a ViT of width 384"):
        train_or_take(CONFIG, [], pretrained=card)


def test_a_trained_run_returns_its_backbone_and_log(tiny_hpa: Path, tmp_path: Path) -> None:
    overrides = [
        f"data.path={tiny_hpa}", "data.format=hpa-kaggle", f"train.out_dir={tmp_path / 'run'}",
        "optim.epochs=1", "train.epoch_length=1", "train.batch_size_per_gpu=2", "crops.global_crops_size=32",
        "crops.local_crops_size=16", "crops.local_crops_number=1", "student.patch_size=16", "train.progress_bar=false",
    ]  # fmt: skip
    run = train_or_take(CONFIG, overrides)
    assert Path(run.checkpoint).is_file() and list(run.log["step"]) == [0]
    assert len(run.overview()) == 3  # first, middle and last step: one step here, three times
    fields = open_fields("hpa-kaggle", tiny_hpa)
    crops = run.training_crops(fields, [0, 3], seed=1)
    assert crops.shape == (2, 2, 4, 32, 32) and not torch.equal(crops[0, 0], crops[0, 1])
    assert torch.equal(crops, run.training_crops(fields, [0, 3], seed=1))
    # self-normalised: each crop's channel has mean 0 and std 1, or is all zero (a dropped channel)
    stds = crops.std(dim=(-2, -1), correction=0)
    dropped = crops.abs().amax(dim=(-2, -1)) == 0
    assert crops.mean(dim=(-2, -1)).abs().max() < 1e-4
    assert torch.all(((stds - 1).abs() < 1e-3) | dropped)


def test_shared_overrides_keep_what_is_set_then_seed_and_a_fresh_start() -> None:
    shared = shared_overrides({"student.arch": "vit_tiny", "optim.base_lr": None, "crops.local_crops_size": 16}, seed=3)
    assert shared == [
        "student.arch=vit_tiny",
        "crops.local_crops_size=16",
        "train.seed=3",
        "train.resume=false",
        "train.progress_bar=false",
    ]
    run = run_overrides(["train.seed=3"], data="/data/hpa", format="hpa-kaggle", epochs=2, out_dir="/out/hpa")
    assert run == [
        "train.seed=3",
        "data.path=/data/hpa",
        "data.format=hpa-kaggle",
        "optim.epochs=2",
        "train.out_dir=/out/hpa",
    ]


@pytest.mark.parametrize(
    "plus_epochs, plus_init, pretrained, plan",
    [
        (5, "", {}, (True, True)),  # the default: a natural-image model trained here, then Cell-DINO+ from it
        (5, "dinov2_vitl14", {}, (False, True)),  # Cell-DINO+ from a named model
        (0, "", {}, (False, False)),  # no Cell-DINO+
        (0, "", {"hpa_plus": "card.yaml"}, (False, True)),  # Cell-DINO+ taken as released
        (5, "", {"hpa_plus": "card.yaml"}, (False, True)),
    ],
)
def test_plus_plan(plus_epochs: int, plus_init: str, pretrained: dict, plan: tuple[bool, bool]) -> None:
    assert plus_plan(plus_epochs, plus_init, pretrained) == plan


def test_a_taken_model_shows_no_training_crops() -> None:
    shown = training_crops_figure(
        ModelRun("cell_dino_cp_vits8", None), query="", label_col="x", n_rows=2, seed=0, figures_dir="figures"
    )
    assert isinstance(shown, Markdown) and "taken as released" in shown.data
