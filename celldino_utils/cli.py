"""The ``celldino`` command: one subcommand per pipeline stage."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

# Stage modules that add their own subcommand through ``register(subparsers)``, by subcommand. They import torch:
# the parser loads them only when one of them, or the list of all subcommands, is asked for.
STAGE_COMMANDS: dict[str, str] = {
    "train": "celldino_utils.train.command",
    "embed": "celldino_utils.embed.command",
    "models": "celldino_utils.models.command",
}


def _run(args: argparse.Namespace) -> int:
    from celldino_utils.runner.profile_check import check_series

    if args.check:
        declared = check_series(args.profile, root=args.root).declared_inputs
        inputs = f"all its {declared} inputs are present" if declared else "declares no external inputs"
        print(f"profile {args.profile} matches the notebooks and their declarations, and {inputs}")
        return 0
    from celldino_utils.runner.series import run_series  # papermill: only when notebooks are to run

    force = True if args.force == [] else (args.force or False)
    manifest = run_series(
        args.profile,
        root=args.root,
        only=args.only,
        force=force,
        progress=lambda line: print(line, flush=True),
        strict=args.strict,
        jobs=args.jobs,
    )
    entries = manifest["notebooks"].values()
    statuses = [entry["status"] for entry in entries if "earlier_run" not in entry]  # this run's notebooks
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("ran", "up to date") if s in statuses)
    if len(statuses) < len(entries):
        counts += f" ({len(entries) - len(statuses)} not considered: the manifest keeps their earlier entries)"
    took = f"{manifest['total_wall_time_s']:.1f} s of notebooks in {manifest['elapsed_s']:.1f} s"
    print(f"{counts}; {took}; manifest written to the profile's figures folder")
    return 0


def _data(args: argparse.Namespace) -> int:
    from celldino_utils.config.profiles import load_profile
    from celldino_utils.synthetic.profile import generate_profile_data

    profile = load_profile(args.profile, root=args.root)
    for kind, path in generate_profile_data(profile, root=Path(args.root), force=args.force).items():
        print(f"{kind:<14} {path}")
    return 0


def _book(args: argparse.Namespace) -> int:
    from celldino_utils.runner.book import book_inputs, book_is_current, record_book_build, write_book_config

    root = Path(args.root)
    config = write_book_config(root, root / "_build" / "_config.yml", repository=args.repository)
    inputs = book_inputs(root, config)
    if not args.force and book_is_current(root, inputs):
        print("book up to date: _toc.yml, _config.yml and book/ unchanged since the last build (--force rebuilds)")
        return 0
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(root), "--config", str(config), "--warningiserror", "--keep-going"]
    code = subprocess.run([*command, "--quiet"]).returncode
    if code == 0:
        record_book_build(root, inputs)
    return code


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``celldino``: its own subcommands, and every stage subcommand (or only ``command``'s).

    Parameters
    ----------
    command : str or None
        The subcommand about to be parsed: only its stage module is loaded (none for ``run``, ``data``, ``book``).
        None loads them all.
    """
    parser = argparse.ArgumentParser(prog="celldino", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute notebooks/NN_*.ipynb in order with papermill, skipping those up to date")
    run.add_argument("--profile", default="default", help="a profile of configs/profiles (default: %(default)s)")
    run.add_argument("--root", default=".", help="project checkout (default: current folder)")
    run.add_argument("--only", nargs="*", default=(), help="consider only these notebook stems")
    run.add_argument(
        "--force", nargs="*", metavar="NAME", help="run these notebooks (all, without a NAME) even when up to date"
    )
    run.add_argument(
        "--check",
        action="store_true",
        help="check the profile and that its inputs (sources) are present, executing nothing; exit 2 if any is missing",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="also fail a notebook that writes, or opens for reading, an undeclared file under the profile's paths",
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="notebooks run at once where their declarations allow (default: the profile's parallel_notebooks, or 1)",
    )
    run.set_defaults(func=_run)
    data = sub.add_parser("data", help="generate the synthetic data sets of a profile (skipped when up to date)")
    data.add_argument("--profile", default="default")
    data.add_argument("--root", default=".")
    data.add_argument("--force", action="store_true", help="regenerate even when up to date")
    data.set_defaults(func=_data)
    book = sub.add_parser("book", help="build the Jupyter Book from the executed notebooks into _build/html")
    book.add_argument("--root", default=".")
    book.add_argument("--repository", help="GitHub address for the links (default: the origin remote's, if any)")
    book.add_argument("--force", action="store_true", help="build even when the inputs are unchanged")
    book.set_defaults(func=_book)
    if command in sub.choices:  # run, data, book
        stages = []
    elif command in STAGE_COMMANDS:
        stages = [STAGE_COMMANDS[command]]
    else:  # the list of subcommands, or an unknown one: argparse names them all
        stages = list(STAGE_COMMANDS.values())
    for module_name in stages:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``celldino`` console script."""
    words = sys.argv[1:] if argv is None else argv
    args = build_parser(words[0] if words and not words[0].startswith("-") else None).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, RuntimeError) as err:
        print(f"celldino {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
