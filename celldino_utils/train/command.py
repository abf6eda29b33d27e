"""Command line: ``train`` subcommand and ``python -m celldino_utils.train`` (also under ``torchrun``).

Examples
--------
``python -m celldino_utils.train --config configs/train/hpa_tiny_cpu.yaml optim.epochs=2``
``torchrun --nproc_per_node=8 -m celldino_utils.train --config configs/train/hpa_vitl16_paper.yaml data.path=/data/hpa``
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from celldino_utils.config import load_config
from celldino_utils.train.loop import train

#: The file holding every training key (``configs/train/default.yaml`` of the repository).
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "train" / "default.yaml"


def load_train_config(
    file: str | Path | None = None, overrides: Sequence[str] = (), *, default: str | Path = DEFAULT_CONFIG
) -> DictConfig:
    """The training config: ``default`` merged with an override ``file`` and ``key=value`` options (struct mode)."""
    return load_config(default, file, tuple(overrides))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand to a parent parser's subparsers; its handler is ``args.func(args) -> int``."""
    parser = subparsers.add_parser("train", help="self-supervised Cell-DINO training", description=__doc__)
    _add_arguments(parser)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m celldino_utils.train``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m celldino_utils.train", description=__doc__)
    _add_arguments(parser)
    args = parser.parse_args(argv)
    return args.func(args)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="override YAML merged on top of the default")
    parser.add_argument("--default-config", type=Path, default=DEFAULT_CONFIG, help="YAML holding every key")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config options, e.g. optim.epochs=2")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    cfg = load_train_config(args.config, args.overrides, default=args.default_config)
    out_dir = train(cfg)
    print(f"training outputs in {out_dir}")
    return 0
