"""Embed a dataset with a frozen model, written in resumable Parquet shards.

Rows are cut into shards of ``shard_size`` in dataset order. Each shard is
written to ``<out>.parts/part-NNNNN.parquet`` through a temporary file and a
rename, so a killed run leaves only complete shards; a restarted run skips them.
Under ``torchrun`` rank ``r`` embeds the shards ``k`` with ``k % world_size == r``
and rank 0 joins all shards into ``out`` once every rank is done.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from celldino_utils.io.profiles import read_profiles, to_profiles, write_profiles


def embed_batches(
    dataset: Dataset,
    model: nn.Module,
    *,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    batch_size: int = 64,
    num_workers: int = 0,
    device: torch.device | str = "cpu",
    bf16: bool | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Embed every item of ``dataset`` (tensors ``(C, H, W)``) into a float32 array ``(N, D)``.

    ``transform`` runs on each item ``(C, H, W)`` in the loader's workers (e.g. resize and
    self-normalisation); bf16 autocast is used on CUDA unless ``bf16`` is False.
    """
    device = torch.device(device)
    if transform is not None:
        dataset = TransformedDataset(dataset, transform)
    bf16 = device.type == "cuda" if bf16 is None else bf16
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
    )
    model = model.eval().to(device)
    chunks = []
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    with torch.inference_mode(), autocast:
        for batch in tqdm(loader, desc="embed", disable=not progress, leave=False):
            batch = batch.to(device, non_blocking=True)
            chunks.append(model(batch).float().cpu().numpy())
    if not chunks:
        raise ValueError("the dataset is empty: nothing to embed")
    return np.concatenate(chunks)


class TransformedDataset(Dataset):
    """``dataset`` with ``transform`` applied to every item."""

    def __init__(self, dataset: Dataset, transform: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.dataset = dataset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.transform(self.dataset[i])


def shard_ranges(n_rows: int, shard_size: int) -> list[range]:
    """Consecutive row ranges of at most ``shard_size`` rows covering ``n_rows``."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be positive, got {shard_size}")
    return [range(start, min(start + shard_size, n_rows)) for start in range(0, n_rows, shard_size)]


def parts_dir(out: Path) -> Path:
    """Folder of the shards of output file ``out``."""
    return out.with_name(out.name + ".parts")


def embed_to_parquet(
    dataset: Dataset,
    metadata: pd.DataFrame,
    model: nn.Module,
    out: str | Path,
    *,
    shard_size: int = 4096,
    rank: int = 0,
    world_size: int = 1,
    barrier: Callable[[], None] | None = None,
    progress: bool = True,
    **embed_options: object,
) -> Path | None:
    """Embed ``dataset`` shard by shard into ``out`` (Parquet: ``metadata`` columns, then ``emb_*`` features).

    Shards already on disk are skipped, so an interrupted run resumes without losing or duplicating rows.

    Returns
    -------
    pathlib.Path or None
        ``out`` on the rank that joined the shards (rank 0), None on the other ranks.
    """
    out = Path(out)
    if len(metadata) != len(dataset):
        raise ValueError(f"{len(metadata)} metadata rows for {len(dataset)} dataset items")
    folder = parts_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    shards = shard_ranges(len(dataset), shard_size)
    mine = [k for k in range(len(shards)) if k % world_size == rank]
    for k in tqdm(mine, desc=f"shards (rank {rank})", disable=not progress):
        path = folder / f"part-{k:05d}.parquet"
        if path.exists():
            continue
        rows = shards[k]
        features = embed_batches(Subset(dataset, list(rows)), model, **embed_options)
        partial = folder / f".part-{k:05d}.parquet.tmp"
        write_profiles(to_profiles(metadata.iloc[rows.start : rows.stop], features), partial)
        partial.rename(path)
    if barrier is not None:
        barrier()
    if rank != 0:
        return None
    return _join_shards(folder, len(shards), out)


def _join_shards(folder: Path, n_shards: int, out: Path) -> Path:
    paths = [folder / f"part-{k:05d}.parquet" for k in range(n_shards)]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise RuntimeError(f"{folder}: shard(s) {missing[:3]} missing after every rank finished")
    profiles = pd.concat([read_profiles(p) for p in paths], ignore_index=True)
    write_profiles(profiles, out)
    shutil.rmtree(folder)
    return out
