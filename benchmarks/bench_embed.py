"""Images per second of the embedding command against the bare model forward on the same batches.

Both are measured in one run on the same data and model: first the whole ``embed_data`` path
(reading the files, the evaluation transform, the loader, the forward, the Parquet shards), then
the model alone on the batches it produced, already in memory. The ratio says how much of the
model's speed the pipeline keeps (aim: >= 0.9). Example::

    python benchmarks/bench_embed.py --data-dir data/synthetic/default/hpa --checkpoint random --num-workers 2
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset

from celldino_utils.augment import EvalTransform
from celldino_utils.embed import embed_data, feed_order, load_embedding_model
from celldino_utils.embed.extract import TransformedDataset
from celldino_utils.io import get_layout, open_fields
from celldino_utils.train import load_train_config


def main(argv: list[str] | None = None) -> None:
    """Parse options, time both paths, print images/s of each and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", default="hpa-kaggle")
    parser.add_argument("--data-dir", default="data/synthetic/default/hpa")
    parser.add_argument("--checkpoint", default="random", help="checkpoint file, or 'random' (--train-config's model)")
    parser.add_argument("--train-config", default="configs/train/hpa_tiny_cpu.yaml", help="architecture of 'random'")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    cfg = load_train_config(args.train_config)
    architecture = {
        "arch": cfg.student.arch,
        "patch_size": cfg.student.patch_size,
        "channel_mode": cfg.student.channel_mode,
        "img_size": cfg.crops.global_crops_size,
    }
    channels = feed_order(args.checkpoint, get_layout(args.format).channels, architecture=architecture)
    model, _ = load_embedding_model(args.checkpoint, data_channels=channels, **architecture)
    fields = Subset(open_fields(args.format, args.data_dir, channels=channels), range(args.images))
    loader = DataLoader(TransformedDataset(fields, EvalTransform()), batch_size=args.batch_size)
    batches = list(loader)
    pipeline, bare = [], []
    with tempfile.TemporaryDirectory() as out:
        for repeat in range(args.repeats):
            tic = time.perf_counter()
            embed_data(
                args.format,
                args.data_dir,
                checkpoint=args.checkpoint,
                level="fov",
                out=Path(out) / f"run{repeat}.parquet",
                batch_size=args.batch_size,
                num_workers=args.num_workers,
                architecture=architecture,
                read_options={},
                progress=False,
                limit=args.images,
            )
            pipeline.append(args.images / (time.perf_counter() - tic))
            tic = time.perf_counter()
            with torch.inference_mode():
                for batch in batches:
                    model(batch)
            bare.append(args.images / (time.perf_counter() - tic))
    full, alone = statistics.median(pipeline), statistics.median(bare)
    print(f"{architecture['arch']}/{architecture['patch_size']} on {args.images} fields of {args.data_dir}")
    print(f"embed command: {full:8.1f} images/s (median of {args.repeats})")
    print(f"model forward: {alone:8.1f} images/s (same batches, in memory)")
    print(f"ratio (embed / forward): {full / alone:.2f}  (aim >= 0.9)")


if __name__ == "__main__":
    main()
