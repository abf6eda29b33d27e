"""Images per second of a released model through the embed stage, beside its bare forward and the matmul peak.

Three numbers measured in one run on one device:

1. the embed stage (``embed_batches``: the evaluation transform on each field in the loader's workers,
   batching, host-to-device copies, the forward under bf16 autocast on CUDA);
2. the bare forward of the same model on batches already on the device, in the same precision;
3. the device's dense matmul peak (bf16 on CUDA, float32 on CPU), measured with large square matmuls,
   turned into the images/s the model would reach if all its FLOPs ran at that peak.

Speed does not depend on the values of the weights: without ``--weights`` the model is built at random init
(saying so). Example, on a GPU::

    python benchmarks/bench_released.py --model cell_dino_hpa_vitl16_fov --size 224 --images 2048 --num-workers 8

and, to check the script on a CPU, ``--images 8 --batch-size 4 --matmul-size 1024``.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from celldino_utils.augment import EvalTransform
from celldino_utils.config import select_device
from celldino_utils.embed import embed_batches
from celldino_utils.embed.extract import TransformedDataset
from celldino_utils.models import build_released_backbone, get_released_model, load_released_model


class _Fields(Dataset):
    """``n`` random 16-bit-like fields ``(C, side, side)`` in [0, 1], made on the fly (no disk)."""

    def __init__(self, n: int, *, channels: int, side: int) -> None:
        self.n, self.channels, self.side = n, channels, side

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(i)
        return torch.rand(self.channels, self.side, self.side, generator=generator)


def matmul_peak(device: torch.device, *, dtype: torch.dtype, size: int, repeats: int = 10) -> float:
    """Measured FLOP/s of ``size x size`` matmuls in ``dtype`` on ``device`` (best of ``repeats``)."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeats + 1):  # the first call warms up
        _sync(device)
        tic = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - tic)
    return 2 * size**3 / best


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: list[str] | None = None) -> None:
    """Parse options, measure the three speeds, print them and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="cell_dino_hpa_vitl16_fov")
    parser.add_argument("--weights", default=None, help="its weights file (default: random init, same speed)")
    parser.add_argument("--size", type=int, default=224, help="side of the centre crop the model embeds")
    parser.add_argument("--field-size", type=int, default=256, help="side of the fields the crop is taken from")
    parser.add_argument("--channels", type=int, default=None, help="default: the model's own channel count")
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-workers", type=int, default=4)
    parser.add_argument("--matmul-size", type=int, default=8192)
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N")
    args = parser.parse_args(argv)
    device = select_device(args.device)
    released = get_released_model(args.model)
    channels = args.channels or released.in_chans
    if args.weights:
        model = load_released_model(released, weights=args.weights)
    else:
        print(f"{args.model}: no --weights, so random init of its architecture (the speed is the same)")
        model = build_released_backbone(released).eval()
    model = model.to(device)
    bf16 = device.type == "cuda"
    dtype = torch.bfloat16 if bf16 else torch.float32

    fields = _Fields(args.images, channels=channels, side=args.field_size)
    transform = EvalTransform(crop_size=args.size)
    options = {"batch_size": args.batch_size, "num_workers": args.num_workers, "device": device, "bf16": bf16}
    embed_batches(_Fields(args.batch_size, channels=channels, side=args.field_size), model, **options)  # warm-up
    _sync(device)
    tic = time.perf_counter()
    embed_batches(fields, model, transform=transform, **options)
    _sync(device)
    stage = args.images / (time.perf_counter() - tic)

    loader = DataLoader(TransformedDataset(fields, transform), batch_size=args.batch_size)
    batches = [batch.to(device) for batch in loader]
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    with torch.inference_mode(), autocast:
        model(batches[0])
        _sync(device)
        tic = time.perf_counter()
        for batch in batches:
            model(batch)
        _sync(device)
        bare = args.images / (time.perf_counter() - tic)
        with FlopCounterMode(display=False) as counter:
            model(batches[0][:1])
    flops_per_image = counter.get_total_flops()
    peak = matmul_peak(device, dtype=dtype, size=args.matmul_size)
    at_peak = peak / flops_per_image

    print(f"{args.model} at {args.size} px, {channels} channels, {str(dtype).removeprefix('torch.')} on {device}")
    print(f"model: {flops_per_image / 1e9:.1f} GFLOP per image; matmul peak {peak / 1e12:.1f} TFLOP/s")
    print(f"embed stage:   {stage:9.1f} images/s")
    print(f"bare forward:  {bare:9.1f} images/s (same batches, on the device)")
    print(f"at the peak:   {at_peak:9.1f} images/s (all FLOPs at the matmul peak)")
    print(f"ratios: stage / forward {stage / bare:.2f}; forward / peak {bare / at_peak:.2f} (model FLOP utilisation)")


if __name__ == "__main__":
    main()
