"""Training data: multi-crop samples with per-sample seeds, a resumable distributed sampler, an endless batch stream.

Every sample's augmentation is drawn from its own generator, seeded by (seed, data epoch, index):
crops are the same whatever the number of workers, and a resumed run sees exactly the crops an
uninterrupted run would have seen.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from celldino_utils.augment import MultiCropAugmentation, collate_crops


class MultiCropDataset(Dataset):
    """Wraps a dataset of images ``(C, H, W)`` in [0, 1]; item ``i`` is the dict of crops of image ``i``.

    Parameters
    ----------
    images
        Any dataset whose items are float tensors ``(C, H, W)`` (e.g. ``celldino_utils.io.open_fields``).
    augmentation
        Callable ``(image, *, generator) -> {"global_crops": [...], "local_crops": [...]}``.
    seed
        Base seed of the crops.
    """

    def __init__(self, images: Dataset, augmentation: Callable[..., dict], *, seed: int) -> None:
        self.images = images
        self.augmentation = augmentation
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the data epoch whose crops are drawn (call before creating the loader iterator)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, list[torch.Tensor]]:
        seed = int(np.random.SeedSequence([self.seed, self.epoch, int(index)]).generate_state(1, dtype=np.uint64)[0])
        generator = torch.Generator().manual_seed(seed & 0x7FFF_FFFF_FFFF_FFFF)
        return self.augmentation(self.images[index], generator=generator)


class ResumableSampler(DistributedSampler):
    """``DistributedSampler`` that can skip the first ``skip`` indices of an epoch (to resume mid-epoch)."""

    skip = 0

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(super().__iter__(), self.skip, None)

    def __len__(self) -> int:
        return self.num_samples - self.skip


def build_loader(
    dataset: MultiCropDataset, *, batch_size: int, num_workers: int, rank: int, world_size: int, seed: int
) -> tuple[DataLoader, ResumableSampler]:
    """A shuffling loader over this process's share of ``dataset``, dropping incomplete batches."""
    sampler = ResumableSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=True)
    if sampler.num_samples < batch_size:
        raise ValueError(
            f"train.batch_size_per_gpu: {batch_size} is larger than the {sampler.num_samples} images of each of "
            f"{world_size} process(es)"
        )
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_crops,
        drop_last=True,
        generator=torch.Generator().manual_seed(seed),  # keeps the global RNG untouched
        pin_memory=torch.cuda.is_available(),
    )
    return loader, sampler


def iterate_batches(loader: DataLoader, sampler: ResumableSampler, *, start_step: int) -> Iterator[dict]:
    """Endless stream of batches over data epochs, starting at global step ``start_step``."""
    per_epoch = sampler.num_samples // loader.batch_size
    epoch, offset = divmod(start_step, per_epoch)
    while True:
        sampler.set_epoch(epoch)
        loader.dataset.set_epoch(epoch)
        sampler.skip = offset * loader.batch_size
        yield from loader
        epoch, offset = epoch + 1, 0


def build_augmentation(cfg: DictConfig) -> MultiCropAugmentation:
    """The multi-crop augmentation of a resolved training config (``crops`` and ``augment`` sections)."""
    return MultiCropAugmentation(
        n_channels=cfg.student.in_chans,
        protein_index=cfg.augment.protein_index,
        global_crops_size=cfg.crops.global_crops_size,
        local_crops_size=cfg.crops.local_crops_size,
        global_crops_scale=tuple(cfg.crops.global_crops_scale),
        local_crops_scale=tuple(cfg.crops.local_crops_scale),
        n_global_crops=cfg.crops.n_global_crops,
        local_crops_number=cfg.crops.local_crops_number,
        drop_channel_p=cfg.augment.drop_channel_p,
        protein_contrast_p=cfg.augment.protein_contrast_p,
        jitter_std=cfg.augment.jitter_std,
        jitter_min=cfg.augment.jitter_min,
    )
