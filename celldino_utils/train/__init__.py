"""Self-supervised training: loop, schedules, optimiser groups, checkpoints, CLI (distributed helpers: ``config``).

Layer 2 (with ``ssl``): imports ``ssl``, ``models``, ``augment`` and the layers below.
"""

from celldino_utils.config.distributed import DistributedContext, init_distributed
from celldino_utils.train.checkpoint import (
    BACKBONE_NAME,
    CHECKPOINT_NAME,
    CONFIG_NAME,
    export_teacher_backbone,
    kept_backbone_path,
    load_checkpoint,
    save_checkpoint,
    training_backbones,
)
from celldino_utils.train.command import DEFAULT_CONFIG, load_train_config, main, register
from celldino_utils.train.log import LOG_NAME, read_log
from celldino_utils.train.loop import TrainingRun, prepare_run, resolve_config, train, train_step
from celldino_utils.train.schedules import build_schedules, cosine_schedule, scaled_lr

__all__ = [
    "BACKBONE_NAME",
    "CHECKPOINT_NAME",
    "CONFIG_NAME",
    "DEFAULT_CONFIG",
    "LOG_NAME",
    "DistributedContext",
    "TrainingRun",
    "build_schedules",
    "cosine_schedule",
    "export_teacher_backbone",
    "init_distributed",
    "kept_backbone_path",
    "load_checkpoint",
    "load_train_config",
    "main",
    "prepare_run",
    "read_log",
    "register",
    "resolve_config",
    "save_checkpoint",
    "scaled_lr",
    "train",
    "train_step",
    "training_backbones",
]
