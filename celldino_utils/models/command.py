"""``celldino models``: the released models that ``--model`` and checkpoint parameters accept by name."""

from __future__ import annotations

import argparse

import pandas as pd

from celldino_utils.models.release_files import released_models_table


def run(args: argparse.Namespace) -> int:
    """Print the registry, one block per model: architecture, training, the names its weights file is found
    under, and the file found (or where to save it)."""
    for row in released_models_table().to_dict("records"):
        print(f"{row['name']}\n  {row['architecture']}, {row['crop px']} px; channels: {row['channels']}")
        if row["builder"] != row["name"]:
            print(f"  official builder: {row['builder']}")
        scale = "not stated (embedded at native size)" if pd.isna(row["field px"]) else f"{row['field px']} px fields"
        print(f"  training scale: {scale}")
        print(f"  trained on: {row['trained on']}")
        print(f"  file names: {row['file names']}")
        status = "found" if row["found"] else "not found"
        print(f"  weights: {row['weights file']} ({status})\n  source: {row['source']} ({row['licence']})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand to the ``celldino`` command."""
    parser = subparsers.add_parser("models", help="list the released models that --model accepts by name")
    parser.set_defaults(func=run)
