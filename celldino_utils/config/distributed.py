"""Distributed helpers for ``torchrun``, beside device selection: process group (NCCL or gloo), DDP, gathering.

Without ``torchrun`` (``WORLD_SIZE`` unset or 1) everything degrades to one process and no
collective is ever called.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from celldino_utils.config import select_device


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: ``rank`` of ``world_size`` processes, ``local_rank`` on its node, its ``device``."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """True on rank 0, the only rank that logs and writes checkpoints."""
        return self.rank == 0


def init_distributed(device: str | None = None) -> DistributedContext:
    """Join the ``torchrun`` process group if there is one and pick this process's device.

    Parameters
    ----------
    device
        Device preference (``auto``, ``cpu``, ``cuda``...); under ``torchrun`` a CUDA device becomes
        ``cuda:<LOCAL_RANK>``. The backend is NCCL on CUDA and gloo otherwise.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = select_device(device)
    if chosen.type == "cuda":
        chosen = torch.device("cuda", local_rank if world_size > 1 else (chosen.index or 0))
        torch.cuda.set_device(chosen)
    owns_group = False
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
        owns_group = True
    return DistributedContext(
        rank=rank, world_size=world_size, local_rank=local_rank, device=chosen, owns_group=owns_group
    )


def wrap_ddp(module: nn.Module, ctx: DistributedContext) -> nn.Module:
    """``module`` in ``DistributedDataParallel`` when there are several processes, else unchanged.

    Buffers are not broadcast: the teacher centers are all-reduced already, and BatchNorm statistics
    of the heads are per process (on CUDA they are synchronised, see :func:`sync_batchnorm`).
    """
    if ctx.world_size == 1:
        return module
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids, broadcast_buffers=False)


def sync_batchnorm(module: nn.Module, ctx: DistributedContext) -> nn.Module:
    """Turn BatchNorm layers into ``SyncBatchNorm`` on multi-GPU runs (DINO does the same); else unchanged."""
    if ctx.world_size > 1 and ctx.device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return module


def gather_objects(obj: object, ctx: DistributedContext) -> list[object]:
    """``[obj of rank 0, obj of rank 1, ...]``; ``[obj]`` without a process group."""
    if ctx.world_size == 1 or not dist.is_initialized():
        return [obj]
    gathered: list[object] = [None] * ctx.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def barrier(ctx: DistributedContext) -> None:
    """Wait for every process (no-op without a process group)."""
    if ctx.world_size > 1 and dist.is_initialized():
        dist.barrier()


def shutdown(ctx: DistributedContext) -> None:
    """Destroy the process group if :func:`init_distributed` created it."""
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()
