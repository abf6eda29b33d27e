"""``celldino embed``: fields of view or single cells of a data set into a Parquet (or AnnData) profile file.

``--model NAME --weights FILE`` embeds with a released model (its architecture comes from the name);
``--checkpoint FILE`` with a checkpoint of our training. The data's channels are fed by name in the order
the model takes them (the registry's, or those its training recorded); the output file's footer records the
model, the SHA-256 of its weights file and that order. ``--format images`` reads fields in any format bioio
reads, channels named by the files' metadata, by ``--read-option channel_names=...`` or by a CSV index
(``--read-option index_csv=fields.csv``); ``--channel-map`` renames them onto a fixed-channel model's.
``--out FILE.h5ad`` writes AnnData for scanpy instead of Parquet.

Images are embedded at the model's training scale (fields resized so that their shorter side is the
``field_px`` the model was trained at; ``--crop-size`` counted in pixels of that scale), unless
``--native-size`` is given or the model does not record its scale; ``--resize-size`` sets the input side
explicitly. A line on stderr says the scale factor used for each size of field.

Under ``torchrun --nproc_per_node=N -m celldino_utils.embed ...`` each rank embeds its own shards.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial

from celldino_utils.augment.cell import INTERPOLATIONS
from celldino_utils.embed.pipeline import LEVELS, embed_data
from celldino_utils.io.channels import FORMATS
from celldino_utils.models import FEATURE_RECIPES, RELEASED_MODELS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the embed command."""
    parser.add_argument("--format", required=True, choices=FORMATS, help="on-disk format of the data")
    parser.add_argument("--data-dir", required=True, help="folder of the data set")
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", choices=sorted(RELEASED_MODELS), help="a released model (see: celldino models)")
    model.add_argument("--checkpoint", help="a checkpoint of our training (or another local one), or 'random'")
    parser.add_argument("--weights", default=None, help="weights file of --model (default: its default path)")
    parser.add_argument("--level", required=True, choices=LEVELS, help="fields of view or single cells")
    parser.add_argument("--out", required=True, help="output file: Parquet, or AnnData if it ends in .h5ad")
    parser.add_argument(
        "--crop-size", type=int, default=64, help="single-cell crop side, in pixels of the model's training scale"
    )
    parser.add_argument(
        "--resize-size",
        type=int,
        default=None,
        help="resize the shorter side of each field or crop to this (default for fields: the training scale; 0: none)",
    )
    parser.add_argument(
        "--native-size",
        action="store_true",
        help="keep native pixels: fields not brought to the training scale, crops of --crop-size native pixels",
    )
    parser.add_argument("--interpolation", choices=INTERPOLATIONS, default="bilinear", help="resize mode")
    parser.add_argument("--center-crop", type=int, default=None, help="then embed the centred square of this side")
    parser.add_argument("--features", choices=FEATURE_RECIPES, default="cls", help="tokens that make the features")
    parser.add_argument("--n-last-blocks", type=int, default=1, help="class tokens of the last n blocks")
    parser.add_argument(
        "--read-option",
        nargs="+",
        default=(),
        metavar="KEY=VALUE",
        help="options of the data set's reader, e.g. labels_csv=S-BIAD2443.csv, platemap_csv=platemap.csv, "
        "index_csv=fields.csv or channel_names=DAPI,GFP,Actin",
    )
    parser.add_argument(
        "--channel-map",
        nargs="+",
        default=(),
        metavar="OURS=THEIRS",
        help="the model's channel names for the data's, e.g. DNA=Hoechst Mito=MitoTracker (Cell Painting columns, "
        "images channels)",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--shard-size", type=int, default=4096, help="rows per resumable shard")
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", type=int, default=0, help="seed of a random-init model")
    for key, kind in (
        ("arch", str),
        ("patch-size", int),
        ("depth", int),
        ("channel-mode", str),
        ("img-size", int),
        ("layerscale", float),
    ):
        parser.add_argument(
            f"--{key}", type=kind, default=None, help="architecture of a --checkpoint without config.yaml"
        )
    parser.add_argument(
        "--channels",
        nargs="+",
        default=None,
        metavar="NAME",
        help="channel names in the order a --checkpoint without config.yaml takes them (default: the data's order)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the embed command from parsed arguments."""
    if args.weights is not None and args.model is None:
        raise ValueError("--weights goes with --model (a released model); our checkpoints use --checkpoint")
    read_options = _key_values(args.read_option, option="--read-option", example="KEY=VALUE (e.g. labels_csv=fov.csv)")
    channel_map = _key_values(args.channel_map, option="--channel-map", example="OURS=THEIRS (e.g. DNA=Hoechst)")
    if channel_map:
        read_options["channel_map"] = channel_map
    architecture = {
        "arch": args.arch,
        "patch_size": args.patch_size,
        "depth": args.depth,
        "channel_mode": args.channel_mode,
        "img_size": args.img_size,
        "layerscale": args.layerscale,
        "channels": None if args.channels is None else tuple(args.channels),
    }
    out = embed_data(
        args.format,
        args.data_dir,
        checkpoint=args.model or args.checkpoint,
        weights=args.weights,
        level=args.level,
        out=args.out,
        crop_size=args.crop_size,
        resize_size=args.resize_size,
        native_size=args.native_size,
        interpolation=args.interpolation,
        center_crop=args.center_crop,
        feature_recipe=args.features,
        n_last_blocks=args.n_last_blocks,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        shard_size=args.shard_size,
        device=args.device,
        seed=args.seed,
        architecture=architecture,
        read_options=read_options,
        report=partial(print, file=sys.stderr),
    )
    if out is not None:
        print(out)
    return 0


def _key_values(items: list[str] | tuple[str, ...], *, option: str, example: str) -> dict[str, str]:
    """``["a=b", ...]`` as ``{"a": "b", ...}``; raise ValueError naming ``option`` for an item without ``=``."""
    pairs = [item.split("=", 1) for item in items]
    malformed = [item for item, pair in zip(items, pairs, strict=True) if len(pair) != 2 or not all(pair)]
    if malformed:
        raise ValueError(f"{option}: expected {example}, got {malformed}")
    return dict(pairs)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``embed`` subcommand to the ``celldino`` command."""
    parser = subparsers.add_parser("embed", help="embed fields of view or single cells with a frozen model")
    add_arguments(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """``python -m celldino_utils.embed``: the embed command alone (for torchrun)."""
    parser = argparse.ArgumentParser(prog="celldino embed", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
