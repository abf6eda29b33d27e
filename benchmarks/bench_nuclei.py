"""Peak memory of reading nucleus centres from a CellProfiler SQLite, at 10,000 and at 1,000,000 nuclei, side by side.

A made-up plate is written for every ``--nuclei`` in cytominer-database's layout (``write_nuclei_sqlite``: tables
``Image`` and ``Nuclei``), the ``Nuclei`` table carrying ``--features`` float columns besides the centres, as real
LINCS plates carry hundreds. Each file is read by ``read_nucleus_centres`` in a fresh Python process, which reports
its own peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``); the files are written by another
child, so that the reader's peak does not inherit the writer's (Linux carries a parent's peak into its children).
The reader queries only the key and location columns, ``--chunk-rows`` rows at a time, so the peak should grow only
by the centres it returns (about 30 bytes a nucleus), not with the table: the ratio of the largest to the smallest
peak aims at <= 1.5, and so does the ratio of the peaks less the centres returned (the reader's working memory).
For scale, each line also says what the whole ``Nuclei`` table would hold in memory (its rows times its columns,
8 bytes a value). The 1,000,000-nucleus file takes about 0.5 GB of disk under ``--work-dir``.
Example::

    python benchmarks/bench_nuclei.py --nuclei 10000 1000000
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

from celldino_utils.io.nuclei import CHUNK_ROWS, write_nuclei_sqlite

# Runs in the child: read the centres, then print the peak RSS (KiB on Linux) after the imports and after the
# read, the read time and the number of nuclei read.
_READ = """
import json, resource, sys, time
from celldino_utils.io.nuclei import read_nucleus_centres
imports_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tic = time.perf_counter()
centres = read_nucleus_centres(sys.argv[1], nuclei=sys.argv[2], chunk_rows=int(sys.argv[3]))
seconds = time.perf_counter() - tic
maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kept_kib = int(centres.memory_usage(deep=True).sum()) // 1024
print(json.dumps({"imports_kib": imports_kib, "maxrss_kib": maxrss_kib, "kept_kib": kept_kib, "seconds": seconds,
                  "rows": len(centres)}))
"""
#: Nuclei per site and sites per well of the made-up plates (LINCS: 9 sites per well of a 384-well plate).
NUCLEI_PER_SITE, SITES_PER_WELL, WELLS = 300, 9, 384


def made_up_nuclei(n_nuclei: int, *, n_features: int, seed: int = 0) -> pd.DataFrame:
    """``n_nuclei`` nuclei of one plate, ``NUCLEI_PER_SITE`` a site, with ``n_features`` ``Nuclei_*`` features."""
    rng = np.random.default_rng(seed)
    index = np.arange(n_nuclei)
    site = index // NUCLEI_PER_SITE
    well = site // SITES_PER_WELL
    if n_nuclei > NUCLEI_PER_SITE * SITES_PER_WELL * WELLS:
        raise ValueError(f"--nuclei: one plate holds at most {NUCLEI_PER_SITE * SITES_PER_WELL * WELLS:,} nuclei here")
    table = pd.DataFrame(
        {
            "Metadata_Plate": "SQ00014812",
            "Metadata_Well": [f"{'ABCDEFGHIJKLMNOP'[w // 24]}{w % 24 + 1:02d}" for w in well],
            "Metadata_Site": site % SITES_PER_WELL + 1,
            "Metadata_ObjectNumber": index % NUCLEI_PER_SITE + 1,
            "Nuclei_Location_Center_X": rng.uniform(0, 1080, n_nuclei),
            "Nuclei_Location_Center_Y": rng.uniform(0, 1080, n_nuclei),
        }
    )
    features = rng.standard_normal((n_nuclei, n_features), dtype=np.float32)
    columns = {f"Nuclei_Feature_{k:03d}": features[:, k] for k in range(n_features)}
    return pd.concat([table, pd.DataFrame(columns)], axis=1)


def write_in_child(path: Path, n_nuclei: int, n_features: int) -> float:
    """Write the made-up plate ``path`` in a fresh interpreter (this script with ``--write``); seconds taken."""
    tic = time.perf_counter()
    command = [sys.executable, __file__, "--write", str(path), "--nuclei", str(n_nuclei), "--features", str(n_features)]
    subprocess.run(command, check=True)
    return time.perf_counter() - tic


def read_in_child(folder: Path, name: str, chunk_rows: int) -> dict[str, float]:
    """Read the centres of ``folder/name`` in a fresh interpreter; peak RSS (KiB) after imports and overall, time."""
    result = subprocess.run(
        [sys.executable, "-c", _READ, str(folder), name, str(chunk_rows)], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Parse options, write and read each plate, print the peaks and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nuclei", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS)
    parser.add_argument("--work-dir", default=None, help="folder for the SQLite files (default: a temporary folder)")
    parser.add_argument("--write", default=None, help=argparse.SUPPRESS)  # the writing child: one file, one count
    args = parser.parse_args(argv)
    if args.write:
        write_nuclei_sqlite(made_up_nuclei(args.nuclei[0], n_features=args.features), args.write)
        return
    peaks, working = {}, {}
    with tempfile.TemporaryDirectory(dir=args.work_dir) as work:
        for n_nuclei in args.nuclei:
            name = f"plate{n_nuclei}.sqlite"
            path = Path(work) / name
            written = write_in_child(path, n_nuclei, args.features)
            child = read_in_child(Path(work), name, args.chunk_rows)
            if child["rows"] != n_nuclei:
                raise RuntimeError(f"{path}: read {child['rows']} nuclei of {n_nuclei}")
            peaks[n_nuclei] = child["maxrss_kib"] / 1024
            working[n_nuclei] = (child["maxrss_kib"] - child["kept_kib"]) / 1024
            whole = n_nuclei * (args.features + 6) * 8 / 2**20
            print(
                f"{n_nuclei:>9,} nuclei x {args.features + 6} columns: written in {written:6.1f} s "
                f"({path.stat().st_size / 2**20:7.1f} MiB), centres read in {child['seconds']:6.1f} s, "
                f"peak RSS of the read {peaks[n_nuclei]:7.1f} MiB ({child['imports_kib'] / 1024:.1f} MiB after "
                f"imports; the centres returned hold {child['kept_kib'] / 1024:.1f} MiB, the whole Nuclei table would "
                f"hold {whole:.1f} MiB)"
            )
            path.unlink()
    smallest, largest = min(args.nuclei), max(args.nuclei)
    ratio = peaks[largest] / peaks[smallest]
    print(f"ratio (peak at {largest:,} nuclei / peak at {smallest:,} nuclei): {ratio:.2f}  (aim <= 1.5)")
    ratio = working[largest] / working[smallest]
    print(f"ratio of the peaks less the centres returned (the reader's working memory): {ratio:.2f}  (aim <= 1.5)")


if __name__ == "__main__":
    main()
