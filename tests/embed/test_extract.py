from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from celldino_utils.embed import embed_to_parquet
from celldino_utils.embed.extract import parts_dir, shard_ranges
from celldino_utils.io import read_profiles


class _Images(Dataset):
    def __init__(self, n: int) -> None:
        self.images = torch.randn(n, 2, 4, 4, generator=torch.Generator().manual_seed(0))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


class _FailsAfter(nn.Module):
    """A linear embedding that raises after ``calls`` forward passes, like a run killed midway."""

    def __init__(self, calls: int | None) -> None:
        super().__init__()
        self.linear = nn.Linear(32, 3)
        self.calls = calls

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.calls is not None:
            if self.calls == 0:
                raise KeyboardInterrupt("killed")
            self.calls -= 1
        return self.linear(x.flatten(1))


def _run(out: Path, model: nn.Module) -> Path | None:
    metadata = pd.DataFrame(
        {"Metadata_Id": [f"img{i}" for i in range(10)], "Metadata_plate": [i % 3 for i in range(10)]}
    )
    return embed_to_parquet(_Images(10), metadata, model, out, shard_size=3, batch_size=2, progress=False)


def test_killed_run_resumes_to_the_same_rows(tmp_path: Path) -> None:
    torch.manual_seed(0)
    reference_model = _FailsAfter(None)
    reference = read_profiles(_run(tmp_path / "reference.parquet", reference_model))
    interrupted = _FailsAfter(3)  # dies inside the second shard (2 batches per shard of 3 rows)
    interrupted.load_state_dict(reference_model.state_dict())
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "resumed.parquet", interrupted)
    done = sorted(p.name for p in parts_dir(tmp_path / "resumed.parquet").glob("part-*.parquet"))
    assert done == ["part-00000.parquet"]
    interrupted.calls = None
    resumed = read_profiles(_run(tmp_path / "resumed.parquet", interrupted))
    pd.testing.assert_frame_equal(resumed, reference)
    assert list(resumed["Metadata_Id"]) == [f"img{i}" for i in range(10)]
    assert not parts_dir(tmp_path / "resumed.parquet").exists()


def test_shards_cover_every_row_once() -> None:
    ranges = shard_ranges(10, 3)
    assert [list(r) for r in ranges] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    with pytest.raises(ValueError, match="shard_size"):
        shard_ranges(10, 0)


def test_metadata_must_match_the_dataset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="9 metadata rows for 10 dataset items"):
        embed_to_parquet(_Images(10), pd.DataFrame({"Metadata_Id": range(9)}), nn.Flatten(), tmp_path / "x.parquet")
