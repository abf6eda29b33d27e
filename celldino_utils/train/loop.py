"""The training loop: data, meta-architecture, optimiser and schedules, steps, logs and checkpoints.

Runs in one process (CPU or one GPU) or under ``torchrun`` with DDP; only rank 0 logs and
writes files. Outputs in ``train.out_dir``: ``config.yaml`` (resolved), ``train_log.csv`` (one
row per step), ``checkpoint.pth`` (resumable), the teacher backbone every ``train.keep_backbone_every`` steps
(``teacher_backbone_step000050.pth``...) and, at the end, ``teacher_backbone.pth``.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from celldino_utils.config import save_config, set_seed
from celldino_utils.config.device import precision_context
from celldino_utils.config.distributed import (
    DistributedContext,
    barrier,
    gather_objects,
    init_distributed,
    shutdown,
    sync_batchnorm,
    wrap_ddp,
)
from celldino_utils.io.datasets import LEVELS, open_images, typical_field_side
from celldino_utils.ssl import SSLMetaArch, build_meta_arch
from celldino_utils.train.checkpoint import (
    BACKBONE_NAME,
    CHECKPOINT_NAME,
    CONFIG_NAME,
    KEPT_BACKBONE_GLOB,
    export_teacher_backbone,
    kept_backbone_path,
    load_checkpoint,
    rng_state,
    save_checkpoint,
)
from celldino_utils.train.data import (
    MultiCropDataset,
    ResumableSampler,
    build_augmentation,
    build_loader,
    iterate_batches,
)
from celldino_utils.train.log import LOG_NAME, StepLog
from celldino_utils.train.optim import apply_schedules, build_optimizer
from celldino_utils.train.schedules import build_schedules, scaled_lr


@dataclass
class TrainingRun:
    """Everything a training run holds: resolved config, process context, model, optimiser, schedules, data."""

    cfg: DictConfig
    ctx: DistributedContext
    model: SSLMetaArch
    network: nn.Module  # the model, or its DDP wrapper
    optimizer: torch.optim.Optimizer
    schedules: dict[str, torch.Tensor]
    loader: DataLoader
    sampler: ResumableSampler
    out_dir: Path
    start_step: int
    total_steps: int


def train(cfg: DictConfig, *, dataset: Dataset | None = None) -> Path:
    """Train a Cell-DINO model (the official recipe, scaled by the config) and return the output folder.

    Parameters
    ----------
    cfg
        Config with the keys of ``configs/train/default.yaml`` (see :func:`celldino_utils.train.load_train_config`).
    dataset
        Images to train on, items float ``(C, H, W)`` in [0, 1]; by default ``open_fields(data.format, data.path)``.
        Its ``layout.protein_index`` (when it has a layout) gives the protein channel.

    Returns
    -------
    pathlib.Path
        ``train.out_dir``, holding ``config.yaml``, ``train_log.csv``, ``checkpoint.pth`` and ``teacher_backbone.pth``.
    """
    ctx = init_distributed(cfg.compute.device)
    try:
        run = prepare_run(cfg, ctx=ctx, dataset=dataset)
        _run_steps(run)
    finally:
        shutdown(ctx)
    return run.out_dir


def resolve_config(cfg: DictConfig, *, dataset: Dataset, world_size: int) -> DictConfig:
    """A copy of ``cfg`` with the derived keys set: ``student.in_chans``, ``data.channels`` (the names of the
    images' channels in tensor order, from the dataset's layout: embedding feeds data in this order),
    ``augment.protein_index``,
    ``optim.lr`` (scaling rule over the global batch), and, when null, ``train.epoch_length`` (one pass over
    the data) and ``data.field_px`` (the median shorter side of the fields, read from the image headers of up
    to 64 of them: the training scale at which :func:`celldino_utils.embed.embed_data` embeds other images).
    """
    cfg = copy.deepcopy(cfg)
    n_channels = int(dataset[0].shape[0])
    if cfg.data.field_px is None:
        cfg.data.field_px = typical_field_side(getattr(dataset, "fields", dataset))  # cells: their fields
    layout = getattr(dataset, "layout", None)
    if layout is not None:
        if cfg.data.channels is not None and tuple(cfg.data.channels) != layout.channels:
            raise ValueError(f"data.channels: {list(cfg.data.channels)}, but the images hold {list(layout.channels)}")
        cfg.data.channels = list(layout.channels)
    if cfg.augment.protein_index is None and layout is not None:
        cfg.augment.protein_index = layout.protein_index
    if cfg.augment.protein_index is not None and not 0 <= cfg.augment.protein_index < n_channels:
        raise ValueError(
            f"augment.protein_index: {cfg.augment.protein_index} is out of range for {n_channels} channels"
        )
    cfg.student.in_chans = n_channels
    batch_size = cfg.train.batch_size_per_gpu * world_size
    cfg.optim.lr = scaled_lr(cfg.optim.base_lr, batch_size=batch_size, rule=cfg.optim.scaling_rule)
    if cfg.train.epoch_length is None:
        cfg.train.epoch_length = max(1, len(dataset) // batch_size)
    return cfg


def training_images(data: DictConfig) -> Dataset:
    """The images a run trains on: the fields of ``data.path`` (``data.level: fov``), or square crops of
    ``data.cell_crop_size`` native pixels around each of their cells (``data.level: cell``); channels in the
    order ``data.channels`` names them (null: the order of ``data.format``).

    Raises
    ------
    ValueError
        Naming the key: an unknown level, or a cell level without a crop size.
    """
    if data.level not in LEVELS:
        raise ValueError(f"data.level must be one of {list(LEVELS)}, got {data.level!r}")
    if data.level == "cell" and not data.cell_crop_size:
        raise ValueError("data.cell_crop_size: training on single cells needs the crop side in pixels")
    return open_images(
        data.format,
        data.path,
        level=data.level,
        crop_size=data.cell_crop_size,
        channels=data.channels,
        cache_mib=data.cache_mib,
    )


def prepare_run(cfg: DictConfig, *, ctx: DistributedContext, dataset: Dataset | None = None) -> TrainingRun:
    """Build data, model, optimiser and schedules; resume from ``out_dir/checkpoint.pth`` when asked and present.

    Rank 0 writes the resolved config to ``out_dir/config.yaml``.
    """
    if cfg.compute.threads:
        torch.set_num_threads(cfg.compute.threads)
    images = dataset if dataset is not None else training_images(cfg.data)
    cfg = resolve_config(cfg, dataset=images, world_size=ctx.world_size)
    out_dir = Path(cfg.train.out_dir)
    set_seed(cfg.train.seed)  # the same initial weights on every rank
    model = sync_batchnorm(build_meta_arch(cfg, in_chans=cfg.student.in_chans), ctx).to(ctx.device)
    optimizer = build_optimizer(model.student, cfg.optim)
    total_steps = int(cfg.optim.epochs * cfg.train.epoch_length)
    schedules = build_schedules(cfg, total_steps=total_steps, epoch_length=cfg.train.epoch_length)
    set_seed(cfg.train.seed + ctx.rank)  # per-rank stochastic depth and masks
    start_step = 0
    if cfg.train.resume and (out_dir / CHECKPOINT_NAME).exists():
        start_step, schedules = load_checkpoint(
            out_dir / CHECKPOINT_NAME, model=model, optimizer=optimizer, rank=ctx.rank
        )
    if ctx.is_main:
        save_config(cfg, out_dir / CONFIG_NAME)
        if start_step == 0:  # a new run: the backbones another run kept here are not this one's
            for kept in out_dir.glob(KEPT_BACKBONE_GLOB):
                kept.unlink()
    loader, sampler = build_loader(
        MultiCropDataset(images, build_augmentation(cfg), seed=cfg.train.seed),
        batch_size=cfg.train.batch_size_per_gpu,
        num_workers=cfg.train.num_workers,
        rank=ctx.rank,
        world_size=ctx.world_size,
        seed=cfg.train.seed,
    )
    return TrainingRun(
        cfg, ctx, model, wrap_ddp(model, ctx), optimizer, schedules, loader, sampler, out_dir, start_step, total_steps
    )


def _run_steps(run: TrainingRun) -> None:
    cfg, ctx = run.cfg, run.ctx
    end = run.total_steps if cfg.train.stop_at_step is None else min(run.total_steps, cfg.train.stop_at_step)
    log = StepLog(run.out_dir / LOG_NAME, start_step=run.start_step) if ctx.is_main else None
    batches = iterate_batches(run.loader, run.sampler, start_step=run.start_step)
    progress = tqdm(
        total=end, initial=run.start_step, disable=not (ctx.is_main and cfg.train.progress_bar), desc="train"
    )
    for step in range(run.start_step, end):
        tic = time.perf_counter()
        batch = next(batches)
        data_time = time.perf_counter() - tic
        row = {"step": step, **train_step(run, batch, step)}
        row.update(
            data_time=data_time, step_time=time.perf_counter() - tic, log_n_prototypes=math.log(run.model.n_prototypes)
        )
        if log is not None:
            log.write(row)
            progress.set_postfix(loss=f"{row['loss']:.3f}", entropy=f"{row['teacher_entropy']:.2f}", refresh=False)
        progress.update()
        if (step + 1) % cfg.train.checkpoint_period == 0 or step + 1 == end:
            _save(run, step + 1)
        keep_every = cfg.train.keep_backbone_every
        if ctx.is_main and keep_every and (step + 1) % keep_every == 0 and step + 1 < run.total_steps:
            export_teacher_backbone(run.model, kept_backbone_path(run.out_dir, step + 1))
    progress.close()
    if end == run.total_steps and ctx.is_main:
        export_teacher_backbone(run.model, run.out_dir / BACKBONE_NAME)
    barrier(ctx)


def train_step(run: TrainingRun, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
    """One optimisation step on ``batch``: schedules, forward, backward, clipping, AdamW, teacher EMA.

    Returns the loss terms, ``teacher_entropy`` and this step's schedule values, as floats.
    """
    values = {name: float(schedule[step]) for name, schedule in run.schedules.items()}
    apply_schedules(
        run.optimizer, lr=values["lr"], last_layer_lr=values["last_layer_lr"], weight_decay=values["weight_decay"]
    )
    global_crops = batch["global_crops"].to(run.ctx.device, non_blocking=True)
    local_crops = batch["local_crops"].to(run.ctx.device, non_blocking=True) if "local_crops" in batch else None
    run.optimizer.zero_grad(set_to_none=True)
    with precision_context(run.ctx.device, run.cfg.compute.precision):
        outputs = run.network(global_crops, local_crops, teacher_temp=values["teacher_temp"])
    outputs["loss"].backward()
    if run.cfg.optim.clip_grad > 0:
        torch.nn.utils.clip_grad_norm_(run.model.student.parameters(), run.cfg.optim.clip_grad)
    run.optimizer.step()
    run.model.update_teacher(values["momentum"])
    return {**{name: float(value.detach()) for name, value in outputs.items()}, **values}


def _save(run: TrainingRun, step: int) -> None:
    states = gather_objects(rng_state(), run.ctx)
    if run.ctx.is_main:
        save_checkpoint(
            run.out_dir / CHECKPOINT_NAME,
            model=run.model,
            optimizer=run.optimizer,
            schedules=run.schedules,
            step=step,
            rng_states=states,
            config=OmegaConf.to_container(run.cfg, resolve=True),
        )
    barrier(run.ctx)
