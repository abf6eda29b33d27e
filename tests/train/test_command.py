"""Command line: the ``train`` subcommand and config errors that name the key."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from celldino_utils.train import DEFAULT_CONFIG, load_train_config, main, register

CONFIGS = Path(DEFAULT_CONFIG).parent


def test_register_adds_a_train_subcommand() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", "--config", "x.yaml", "optim.epochs=2", "student.arch=vit_small"])
    assert args.command == "train" and args.config == Path("x.yaml")
    assert args.overrides == ["optim.epochs=2", "student.arch=vit_small"] and callable(args.func)


@pytest.mark.parametrize(
    "name", ["hpa_tiny_cpu", "cellpainting_tiny_cpu", "hpa_vitl16_paper", "cellpainting_vits8_paper"]
)
def test_override_files_only_use_known_keys(name: str) -> None:
    cfg = load_train_config(CONFIGS / f"{name}.yaml")
    assert cfg.crops.global_crops_size % cfg.student.patch_size == 0


def test_unknown_key_is_named() -> None:
    with pytest.raises(KeyError, match="'epoch' is not in struct"):
        main(["optim.epoch=3"])


def test_unknown_architecture_is_named(tmp_path: Path) -> None:
    from celldino_utils.ssl import build_meta_arch

    with pytest.raises(ValueError, match="arch"):
        build_meta_arch(load_train_config(None, ["student.arch=vit_gigantic"]), in_chans=4)
