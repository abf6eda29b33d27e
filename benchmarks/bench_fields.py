"""Random single-cell crops per second with the decoded fields kept in memory, against decoding every read.

Training, fine-tuning and the supervised reference of chapter 04 draw cells in random order, so nearly every crop
comes from another field than the one before. Both data sets are opened on the same data and read the same crops
in the same order, for ``--epochs`` passes (the first pass of the cached one decodes, as the uncached one always
does). The ratio is what keeping the fields saves. Example::

    python benchmarks/bench_fields.py --data-dir data/synthetic/default/cellpainting --format cellpainting
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from celldino_utils.io import open_cells
from celldino_utils.io.datasets import FIELD_CACHE_MIB


def main(argv: list[str] | None = None) -> None:
    """Parse options, read the same random crops from both data sets, print crops/s of each and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="data/synthetic/default/cellpainting")
    parser.add_argument("--format", default="cellpainting")
    parser.add_argument("--crop-size", type=int, default=32)
    parser.add_argument("--crops", type=int, default=2000, help="crops per pass, drawn at random")
    parser.add_argument("--epochs", type=int, default=3, help="passes over the same crops")
    parser.add_argument("--cache-mib", type=float, default=FIELD_CACHE_MIB)
    args = parser.parse_args(argv)
    rates = {}
    for name, cache_mib in (("decoded every read", 0.0), (f"fields kept ({args.cache_mib:g} MiB)", args.cache_mib)):
        cells = open_cells(args.format, args.data_dir, crop_size=args.crop_size, cache_mib=cache_mib)
        order = np.random.default_rng(0).choice(len(cells), size=min(args.crops, len(cells)), replace=False)
        tic = time.perf_counter()
        for _ in range(args.epochs):
            for i in order:
                cells[int(i)]
        rates[name] = args.epochs * len(order) / (time.perf_counter() - tic)
    print(f"{args.format} {args.data_dir}: {args.epochs} passes over {len(order)} random cells of {len(cells)}")
    for name, rate in rates.items():
        print(f"{name:>32}: {rate:8.0f} crops/s")
    uncached, cached = rates.values()
    print(f"ratio: {cached / uncached:.2f}")


if __name__ == "__main__":
    main()
