"""Peak memory of joining embedding shards, at 10,000 and at 1,000,000 rows, measured side by side.

Made-up shards (384 float32 features and a few ``Metadata_*`` columns, ``--shard-size`` rows each,
as the default ``shard_size`` of ``embed_to_parquet``) are written for every ``--rows``; each set
is joined by ``join_shards`` in a fresh Python process, which reports its own peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). Joining streams one shard at a time, so the peak
should not grow with the rows: the ratio of the largest to the smallest peak aims at <= 1.5. The
1,000,000-row set takes about 1.6 GB of disk under ``--work-dir``. Example::

    python benchmarks/bench_join.py --rows 10000 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from celldino_utils.embed.extract import parts_dir, shard_ranges
from celldino_utils.io.profiles import to_profiles, write_profiles

# Runs in the child: join the shards, then print the child's peak RSS (KiB on Linux) after the imports
# and after the join, and the join time.
_JOIN = """
import json, resource, sys, time
from pathlib import Path
from celldino_utils.embed.extract import join_shards
imports_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tic = time.perf_counter()
join_shards(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
seconds = time.perf_counter() - tic
maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"imports_kib": imports_kib, "maxrss_kib": maxrss_kib, "seconds": seconds}))
"""


def write_shards(out: Path, *, n_rows: int, shard_size: int, n_features: int) -> int:
    """Write made-up shards of ``out``: ``Metadata_Plate``, ``_Well``, ``_Site``, ``_cell_id`` and features.

    Returns the number of shards.
    """
    rng = np.random.default_rng(0)
    shards = shard_ranges(n_rows, shard_size)
    for k, rows in enumerate(shards):
        index = np.arange(rows.start, rows.stop)
        metadata = pd.DataFrame(
            {
                "Metadata_Plate": [f"SQ{15096 + i // 3456:08d}" for i in index],
                "Metadata_Well": [f"{'ABCDEFGHIJKLMNOP'[i // 216 % 16]}{i // 9 % 24 + 1:02d}" for i in index],
                "Metadata_Site": index // 3 % 3 + 1,
                "Metadata_cell_id": index,
            }
        )
        features = rng.standard_normal((len(rows), n_features), dtype=np.float32)
        write_profiles(to_profiles(metadata, features), parts_dir(out) / f"part-{k:05d}.parquet")
    return len(shards)


def join_in_child(out: Path, n_shards: int) -> dict[str, float]:
    """Join the shards of ``out`` in a fresh interpreter; peak RSS (KiB) after imports and overall, join time (s)."""
    result = subprocess.run(
        [sys.executable, "-c", _JOIN, str(parts_dir(out)), str(n_shards), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Parse options, write and join each shard set, print the peaks and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--shard-size", type=int, default=4096)
    parser.add_argument("--features", type=int, default=384)
    parser.add_argument("--work-dir", default=None, help="folder for the shards (default: a temporary folder)")
    args = parser.parse_args(argv)
    peaks = {}
    with tempfile.TemporaryDirectory(dir=args.work_dir) as work:
        for n_rows in args.rows:
            out = Path(work) / f"rows{n_rows}.parquet"
            tic = time.perf_counter()
            n_shards = write_shards(out, n_rows=n_rows, shard_size=args.shard_size, n_features=args.features)
            written = time.perf_counter() - tic
            child = join_in_child(out, n_shards)
            peaks[n_rows] = child["maxrss_kib"] / 1024
            print(
                f"{n_rows:>9,} rows, {n_shards:>4} shards of {args.shard_size}: written in {written:6.1f} s, "
                f"joined in {child['seconds']:6.1f} s into {out.stat().st_size / 2**20:8.1f} MiB, "
                f"peak RSS of the join {peaks[n_rows]:7.1f} MiB ({child['imports_kib'] / 1024:.1f} MiB after imports)"
            )
            out.unlink()
    smallest, largest = min(args.rows), max(args.rows)
    ratio = peaks[largest] / peaks[smallest]
    print(f"ratio (peak at {largest:,} rows / peak at {smallest:,} rows): {ratio:.2f}  (aim <= 1.5)")


if __name__ == "__main__":
    main()
