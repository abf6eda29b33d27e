"""Tiny training fixtures: an in-memory 4-channel data set and config options for seconds-long runs."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from celldino_utils.io import HPA_KAGGLE

TINY_TRAIN = [
    "student.arch=vit_tiny",
    "student.patch_size=16",
    "crops.global_crops_size=32",
    "crops.local_crops_size=16",
    "crops.local_crops_number=2",
    "dino.head_n_prototypes=64",
    "dino.head_hidden_dim=32",
    "dino.head_bottleneck_dim=16",
    "dino.head_use_bn=true",
    "optim.epochs=1",
    "optim.warmup_epochs=0.4",
    "teacher.warmup_teacher_temp_epochs=0.4",
    "train.batch_size_per_gpu=4",
    "train.epoch_length=5",
    "train.num_workers=0",
    "train.progress_bar=false",
    "compute.precision=fp32",
    "compute.device=cpu",
]


class TinyFields(Dataset):
    """``n`` random HPA-like fields ``(4, 40, 40)`` in [0, 1], with the HPA Kaggle channel layout."""

    layout = HPA_KAGGLE

    def __init__(self, n: int = 12) -> None:
        self.images = torch.rand(n, 4, 40, 40, generator=torch.Generator().manual_seed(0))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


@pytest.fixture
def tiny_fields() -> TinyFields:
    return TinyFields()
