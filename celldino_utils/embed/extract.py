"""Embed a dataset with a frozen model, written in resumable Parquet shards.

Rows are cut into shards of ``shard_size`` in dataset order. Each shard is
written to ``<out>.parts/part-NNNNN.parquet`` through a temporary file and a
rename, so a killed run leaves only complete shards; a restarted run skips them.
Under ``torchrun`` rank ``r`` embeds the shards ``k`` with ``k % world_size == r``
and rank 0 streams all shards into ``out`` once every rank is done, one shard in memory at a time.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset, default_collate
from tqdm import tqdm

from celldino_utils.config.device import default_precision, precision_context
from celldino_utils.io.profiles import to_profiles, write_profiles
from celldino_utils.io.provenance import encode_provenance, read_provenance

#: Size of the row groups of a joined embedding file (Arrow bytes): large enough that the Parquet
#: writer's per-row-group metadata stays small, small enough to hold one in memory.
ROW_GROUP_BYTES = 64 * 2**20


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
    """Embed every item of ``dataset`` (tensors ``(C, H, W)``) into a float32 array ``(N, D)``, rows in dataset order.

    Items may differ in size (real fields of 1728, 2048 and 3072 px in one folder): each batch is
    cut into groups of equal size (:func:`collate_by_size`), one forward pass per group.
    ``transform`` runs on each item ``(C, H, W)`` in the loader's workers (e.g. resize and
    self-normalisation); bf16 autocast is used on CUDA unless ``bf16`` is False.
    """
    device = torch.device(device)
    if transform is not None:
        dataset = TransformedDataset(dataset, transform)
    precision = default_precision(device) if bf16 is None else ("bf16" if bf16 else "fp32")
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=collate_by_size,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
    )
    model = model.eval().to(device)
    chunks = []
    with torch.inference_mode(), precision_context(device, precision):
        for groups in tqdm(loader, desc="embed", disable=not progress, leave=False):
            outputs = [(rows, model(batch.to(device, non_blocking=True)).float().cpu()) for rows, batch in groups]
            chunks.append(_in_item_order(outputs))
    if not chunks:
        raise ValueError("the dataset is empty: nothing to embed")
    return np.concatenate(chunks)


def collate_by_size(items: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Collate one batch as groups of equal-size items.

    Parameters
    ----------
    items
        ``B`` tensors ``(C, H, W)``, possibly of different sizes.

    Returns
    -------
    list of (rows, batch)
        One pair per distinct size, in order of first appearance: ``rows`` (int64, ``(k,)``) the
        positions of the group's items in ``items``, ``batch`` their stack ``(k, C, H, W)``. Equal
        sizes give one group, stacked as the default collate does.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(tuple(item.shape), []).append(i)
    return [(torch.tensor(rows), default_collate([items[i] for i in rows])) for rows in groups.values()]


def _in_item_order(outputs: list[tuple[torch.Tensor, torch.Tensor]]) -> np.ndarray:
    """Rows of the per-group outputs ``(k, D)`` put back at their item positions: ``(B, D)``."""
    if len(outputs) == 1:
        return outputs[0][1].numpy()
    rows = torch.cat([r for r, _ in outputs])
    merged = torch.empty((len(rows), outputs[0][1].shape[1]), dtype=outputs[0][1].dtype)
    merged[rows] = torch.cat([o for _, o in outputs])
    return merged.numpy()


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
    provenance: Mapping[str, Any] | None = None,
    **embed_options: object,
) -> Path | None:
    """Embed ``dataset`` shard by shard into ``out`` (Parquet: ``metadata`` columns, then ``emb_*`` features).

    Shards already on disk are skipped, so an interrupted run resumes without losing or duplicating rows;
    ``provenance`` (the model, its weights and the channels fed) goes into every shard's footer and ``out``'s,
    and a shard left by a run with another record (another model or weights file) is refused, not joined.

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
            _check_resumed(path, dict(provenance or {}))
            continue
        rows = shards[k]
        features = embed_batches(Subset(dataset, list(rows)), model, **embed_options)
        partial = folder / f".part-{k:05d}.parquet.tmp"
        write_profiles(to_profiles(metadata.iloc[rows.start : rows.stop], features), partial, provenance=provenance)
        partial.rename(path)
    if barrier is not None:
        barrier()
    if rank != 0:
        return None
    return join_shards(folder, len(shards), out)


def _check_resumed(shard: Path, provenance: dict[str, Any]) -> None:
    """Raise ValueError naming ``shard`` if a run with another provenance record wrote it."""
    recorded = read_provenance(shard)
    if recorded != json.loads(encode_provenance(provenance)):
        differ = sorted(key for key in {*recorded, *provenance} if recorded.get(key) != provenance.get(key))
        raise ValueError(
            f"{shard}: left by an earlier run of another model or data ({', '.join(differ)} differ: "
            f"{ {key: recorded.get(key) for key in differ} }); remove {shard.parent} to embed from the start"
        )


def join_shards(folder: Path, n_shards: int, out: Path, *, row_group_bytes: int = ROW_GROUP_BYTES) -> Path:
    """Stream the shards ``part-00000.parquet``... of ``folder`` into ``out`` in order, then remove ``folder``.

    Shards are read one at a time and written as Parquet row groups of about ``row_group_bytes``
    (consecutive shards together), so peak memory does not grow with the number of rows: one row
    group in memory, and few row groups (the writer keeps about 1 kB per column of each until it
    writes the footer). The shards must share their columns (names, order and types; a column missing
    throughout one shard takes the type the others give it): the error names the first shard that
    differs. ``out`` is written under a temporary name and renamed, so a killed join leaves the
    shards and no ``out``.
    """
    paths = [folder / f"part-{k:05d}.parquet" for k in range(n_shards)]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise RuntimeError(f"{folder}: shard(s) {missing[:3]} missing after every rank finished")
    schema = _shared_schema(paths)
    partial = out.with_name(f".{out.name}.tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(partial, schema) as writer:
        pending: list[pa.Table] = []
        for k, path in enumerate(paths):
            pending.append(pq.read_table(path).cast(schema))
            if sum(t.nbytes for t in pending) >= row_group_bytes or k == n_shards - 1:
                group = pa.concat_tables(pending)
                writer.write_table(group, row_group_size=group.num_rows)
                pending = []
    partial.replace(out)
    shutil.rmtree(folder)
    return out


def _shared_schema(paths: list[Path]) -> pa.Schema:
    """The Arrow schema of the shards at ``paths`` (read from their footers), checked to be the same for all."""
    first = pq.read_schema(paths[0])
    schema = first
    for path in paths[1:]:
        other = pq.read_schema(path)
        if other.names != first.names:
            extra, lacking = sorted(set(other.names) - set(first.names)), sorted(set(first.names) - set(other.names))
            raise ValueError(
                f"{path}: its columns differ from those of {paths[0].name} (extra {extra[:5]}, missing "
                f"{lacking[:5]}{', same names in another order' if not extra and not lacking else ''})"
            )
        try:
            schema = pa.unify_schemas([schema, other])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise ValueError(f"{path}: its column types differ from those of {paths[0].name}: {err}") from None
    return schema
