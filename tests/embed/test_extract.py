from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from celldino_utils.embed import embed_to_parquet
from celldino_utils.embed.extract import collate_by_size, embed_batches, join_shards, parts_dir, shard_ranges
from celldino_utils.io import read_profiles, read_provenance, to_profiles, write_profiles


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


def _run(out: Path, model: nn.Module, *, provenance: dict | None = None) -> Path | None:
    metadata = pd.DataFrame(
        {"Metadata_Id": [f"img{i}" for i in range(10)], "Metadata_plate": [i % 3 for i in range(10)]}
    )
    options = {"shard_size": 3, "batch_size": 2, "progress": False, "provenance": provenance}
    return embed_to_parquet(_Images(10), metadata, model, out, **options)


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


def test_the_joined_file_records_the_provenance_and_a_run_of_another_model_does_not_resume(tmp_path: Path) -> None:
    first = {"model": "cell_dino_cp_vits8", "weights_sha256": "ab" * 32, "channels": ["DNA", "RNA"]}
    joined = _run(tmp_path / "out.parquet", _FailsAfter(None), provenance=first)
    assert read_provenance(joined) == first and read_profiles(joined).attrs["provenance"] == first
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "again.parquet", _FailsAfter(3), provenance=first)
    other = {**first, "weights_sha256": "cd" * 32}
    with pytest.raises(ValueError, match=r"part-00000.parquet: left by an earlier run .*\(weights_sha256 differ"):
        _run(tmp_path / "again.parquet", _FailsAfter(None), provenance=other)
    assert read_provenance(_run(tmp_path / "again.parquet", _FailsAfter(None), provenance=first)) == first


def test_shards_cover_every_row_once() -> None:
    ranges = shard_ranges(10, 3)
    assert [list(r) for r in ranges] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    with pytest.raises(ValueError, match="shard_size"):
        shard_ranges(10, 0)


def test_metadata_must_match_the_dataset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="9 metadata rows for 10 dataset items"):
        embed_to_parquet(_Images(10), pd.DataFrame({"Metadata_Id": range(9)}), nn.Flatten(), tmp_path / "x.parquet")


class _Sized(Dataset):
    """Items ``(2, H, W)`` of several sizes, filled with their index, like fields of 1728, 2048 and 3072 px."""

    SIZES = ((8, 8), (12, 10), (8, 8), (16, 16), (12, 10), (8, 8), (16, 16))

    def __len__(self) -> int:
        return len(self.SIZES)

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.full((2, *self.SIZES[i]), float(i))


class _SizeAware(nn.Module):
    """Embeds ``(B, C, H, W)`` as ``(B, 3)``: the mean value, the height and the width of each item."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = torch.full((len(x),), x.shape[2]), torch.full((len(x),), x.shape[3])
        return torch.stack([x.mean(dim=(1, 2, 3)), height.float(), width.float()], dim=1)


def test_items_of_mixed_sizes_are_embedded_in_dataset_order() -> None:
    expected = np.array([[i, h, w] for i, (h, w) in enumerate(_Sized.SIZES)], dtype=np.float32)
    for batch_size in (1, 3, 4, 64):
        np.testing.assert_array_equal(embed_batches(_Sized(), _SizeAware(), batch_size=batch_size), expected)


def test_equal_sizes_collate_as_one_stack() -> None:
    items = [torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    [(rows, batch)] = collate_by_size(items)
    assert rows.tolist() == [0, 1, 2]
    torch.testing.assert_close(batch, torch.stack(items), rtol=0, atol=0)
    groups = collate_by_size([items[0], torch.zeros(2, 5, 5), items[1]])
    assert [(rows.tolist(), tuple(batch.shape)) for rows, batch in groups] == [
        ([0, 2], (2, 2, 4, 4)),
        ([1], (1, 2, 5, 5)),
    ]


def _write_shards(folder: Path, shards: list[pd.DataFrame]) -> None:
    for k, shard in enumerate(shards):
        write_profiles(shard, folder / f"part-{k:05d}.parquet")


def _shard(rows: range, **metadata: object) -> pd.DataFrame:
    meta = pd.DataFrame({"Metadata_Id": [f"img{i}" for i in rows], **metadata}, index=list(rows))
    return to_profiles(meta, np.arange(len(rows) * 2, dtype=np.float32).reshape(-1, 2) + rows.start)


def test_join_streams_the_shards_in_order(tmp_path: Path) -> None:
    shards = [_shard(range(0, 3), Metadata_note=["a", None, "b"]), _shard(range(3, 5), Metadata_note=[None, None])]
    _write_shards(tmp_path / "x.parquet.parts", shards)
    out = join_shards(tmp_path / "x.parquet.parts", 2, tmp_path / "x.parquet")
    joined = read_profiles(out)
    assert joined["Metadata_Id"].tolist() == [f"img{i}" for i in range(5)]
    assert joined["Metadata_note"].isna().tolist() == [False, True, False, True, True]  # shard 1 has no note at all
    assert joined["Metadata_note"][[0, 2]].tolist() == ["a", "b"]
    np.testing.assert_array_equal(
        joined[["emb_0000", "emb_0001"]].to_numpy(),
        np.concatenate([np.arange(6).reshape(3, 2), np.arange(4).reshape(2, 2) + 3]),
    )
    assert not (tmp_path / "x.parquet.parts").exists()
    assert pq.ParquetFile(out).metadata.num_row_groups == 1  # small shards share a row group


def test_row_groups_of_the_joined_file_gather_shards_up_to_the_size(tmp_path: Path) -> None:
    shards = [_shard(range(start, start + 3)) for start in range(0, 15, 3)]
    _write_shards(tmp_path / "x.parquet.parts", shards)
    shard_bytes = pq.read_table(tmp_path / "x.parquet.parts" / "part-00000.parquet").nbytes
    for row_group_bytes, rows_per_group in ((1, [3] * 5), (int(1.5 * shard_bytes), [6, 6, 3]), (10**9, [15])):
        _write_shards(tmp_path / "x.parquet.parts", shards)
        out = join_shards(tmp_path / "x.parquet.parts", 5, tmp_path / "x.parquet", row_group_bytes=row_group_bytes)
        metadata = pq.ParquetFile(out).metadata
        assert [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)] == rows_per_group
        assert read_profiles(out)["Metadata_Id"].tolist() == [f"img{i}" for i in range(15)]


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (
            _shard(range(3, 5), Metadata_plate=[1, 2]),
            r"part-00001.parquet: its columns differ.*extra \['Metadata_plate'\]",
        ),
        (_shard(range(3, 5)).assign(Metadata_Id=[1, 2]), r"part-00001.parquet: its column types differ"),
    ],
    ids=["columns", "types"],
)
def test_a_shard_that_differs_is_named(tmp_path: Path, second: pd.DataFrame, message: str) -> None:
    folder = tmp_path / "x.parquet.parts"
    _write_shards(folder, [_shard(range(0, 3)), second])
    with pytest.raises(ValueError, match=message):
        join_shards(folder, 2, tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists() and len(list(folder.glob("part-*"))) == 2
