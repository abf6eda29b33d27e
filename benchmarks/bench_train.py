"""Time one training step of the full pipeline (loader + augmentations + step) against the model step alone.

Both are timed on the same run and batch shapes; the ratio says how much the data pipeline costs
(aim: <= 1.25). Example::

    python benchmarks/bench_train.py --config configs/train/hpa_tiny_cpu.yaml data.path=data/synthetic/hpa
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from celldino_utils.train import init_distributed, load_train_config, prepare_run, train_step
from celldino_utils.train.data import iterate_batches


def main(argv: list[str] | None = None) -> None:
    """Parse options, run ``--warmup`` then ``--steps`` steps of each kind, print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/train/hpa_tiny_cpu.yaml")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as out_dir:
        options = [*args.overrides, f"train.out_dir={out_dir}", "train.resume=false"]
        run = prepare_run(load_train_config(args.config, options), ctx=init_distributed())
        batches = iterate_batches(run.loader, run.sampler, start_step=0)
        fixed = next(batches)
        step = 0
        full, alone = [], []
        for rounds in range(2 * (args.warmup + args.steps)):  # alternate, so load changes hit both alike
            tic = time.perf_counter()
            batch = next(batches) if rounds % 2 == 0 else fixed
            train_step(run, batch, min(step, run.total_steps - 1))
            if rounds >= 2 * args.warmup:
                (full if rounds % 2 == 0 else alone).append(time.perf_counter() - tic)
            step += 1
    cfg, crops = run.cfg, run.cfg.crops
    print(
        f"{cfg.student.arch}/{cfg.student.patch_size} ({cfg.student.get('depth') or 'all'} blocks) "
        f"{cfg.student.channel_mode}, "
        f"batch {cfg.train.batch_size_per_gpu}, "
        f"{crops.n_global_crops} x {crops.global_crops_size} px + {crops.local_crops_number} x "
        f"{crops.local_crops_size} px crops, {cfg.train.num_workers} workers, device {run.ctx.device}"
    )
    pipeline, model = statistics.median(full), statistics.median(alone)
    print(f"full pipeline (loader + augmentations + step): {pipeline:.3f} s/step (median of {len(full)})")
    print(f"model step alone (same batch shapes):          {model:.3f} s/step (median of {len(alone)})")
    print(f"ratio: {pipeline / model:.2f}")


if __name__ == "__main__":
    main()
