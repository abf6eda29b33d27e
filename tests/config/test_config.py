from __future__ import annotations

from pathlib import Path

import pytest
import torch

from celldino_utils.config import load_config, select_device
from celldino_utils.config.device import default_precision, precision_context


def test_overrides_merge_in_order(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("model:\n  arch: vit_tiny\n  size: 64\nseed: 0\n")
    (tmp_path / "small.yaml").write_text("model:\n  arch: vit_small\n")
    cfg = load_config(tmp_path / "default.yaml", tmp_path / "small.yaml", ["model.size=96"])
    assert (cfg.model.arch, cfg.model.size, cfg.seed) == ("vit_small", 96, 0)


def test_an_override_file_builds_on_its_base(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("model:\n  arch: vit_large\n  size: 224\nseed: 0\n")
    (tmp_path / "shared.yaml").write_text("model:\n  arch: vit_tiny\n  size: 48\n")
    (tmp_path / "run.yaml").write_text("base: shared.yaml\nmodel:\n  size: 32\n")
    cfg = load_config(tmp_path / "default.yaml", tmp_path / "run.yaml", ["seed=3"])
    assert (cfg.model.arch, cfg.model.size, cfg.seed) == ("vit_tiny", 32, 3) and "base" not in cfg
    (tmp_path / "shared.yaml").write_text("base: run.yaml\n")
    with pytest.raises(ValueError, match=r"run.yaml: base configs form a cycle"):
        load_config(tmp_path / "default.yaml", tmp_path / "shared.yaml")
    (tmp_path / "run.yaml").write_text("base: gone.yaml\n")
    with pytest.raises(FileNotFoundError, match=r"gone.yaml \(base of .*run.yaml\)"):
        load_config(tmp_path / "default.yaml", tmp_path / "run.yaml")


def test_the_tiny_training_configs_share_one_recipe() -> None:
    root = Path(__file__).resolve().parents[2] / "configs" / "train"
    configs = {
        name: load_config(root / "default.yaml", root / f"{name}_tiny_cpu.yaml") for name in ("hpa", "photographs")
    }
    assert configs["hpa"].student == configs["photographs"].student and configs["hpa"].student.arch == "vit_tiny"
    assert (configs["hpa"].optim.epochs, configs["photographs"].optim.epochs) == (5, 10)


def test_unknown_key_names_its_source(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("model:\n  arch: vit_tiny\n")
    (tmp_path / "typo.yaml").write_text("model:\n  archh: vit_small\n")
    with pytest.raises(KeyError, match=r"typo.yaml.*archh"):
        load_config(tmp_path / "default.yaml", tmp_path / "typo.yaml")
    with pytest.raises(KeyError, match=r"command-line options.*lr"):
        load_config(tmp_path / "default.yaml", overrides=["lr=0.1"])


def test_device_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    assert select_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("CELLDINO_DEVICE", "cpu")
    assert select_device() == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            select_device("cuda")


def test_precision_contexts_autocast_bf16_only_where_asked_and_supported() -> None:
    cpu = torch.device("cpu")
    with precision_context(cpu, "bf16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with precision_context(cpu, "fp32"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    assert default_precision(cpu) == "fp32" and default_precision(torch.device("cuda")) == "bf16"
    with pytest.raises(ValueError, match=r"precision: unknown value 'fp16'"):
        precision_context(cpu, "fp16")
