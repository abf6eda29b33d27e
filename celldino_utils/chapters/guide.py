"""The adoption guide: the supplement's six recommendations as runnable steps on the data of a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from celldino_utils.chapters.shown import shown_path, shown_text
from celldino_utils.config import resolve_path
from celldino_utils.correct import aggregate_wells, correct
from celldino_utils.embed import embed_data, load_embedding_model, resolve_checkpoint
from celldino_utils.evaluate import retrieval_table
from celldino_utils.io import get_layout, open_fields, read_profiles
from celldino_utils.io.profiles import profile_path
from celldino_utils.models import find_released_weights, get_released_model, released_models_table
from celldino_utils.train import load_train_config, train

#: The columns of the released models' table the guide shows (``fits`` is added for the data's channel count).
RELEASED_COLUMNS = ("name", "architecture", "channels", "crop px", "trained on", "found", "source")
#: Sphering of the bag-of-channels model's wells: the epsilon that chapter 03 spheres the other feature sets with.
SPHERING_EPSILON = 1e-3


@dataclass(frozen=True)
class Guide:
    """What the adoption guide shows, step by step.

    Attributes
    ----------
    released : pandas.DataFrame
        The paper's released models, with whether each fits the channels of the guide's data.
    released_run : str
        The command that embeds data with a released model, and what it gave here (or why it was skipped).
    channels : str
        Our HPA model on its own fields and refusing Cell Painting images, with the error it raises.
    bag_of_channels : str
        The bag-of-channels model's Cell Painting embeddings: cells and features.
    retrieval : pandas.DataFrame
        Replicate and mechanism mAP of every feature set's sphered wells (3 decimals).
    """

    released: pd.DataFrame
    released_run: str
    channels: str
    bag_of_channels: str
    retrieval: pd.DataFrame


def released_table(released_format: str) -> pd.DataFrame:
    """The released models' table, with a ``fits <C> channels`` column for the channel count of ``released_format``."""
    n_channels = get_layout(released_format).n_channels
    columns = [*RELEASED_COLUMNS[:4], f"fits {n_channels} channels", *RELEASED_COLUMNS[4:]]
    return released_models_table(n_channels=n_channels)[columns]


def embed_with_released(
    model: str, *, weights: str, format: str, data: str, read_options: dict[str, Any], out_dir: str, **options: Any
) -> str:
    """Embed a few cells with a released model when its weights file is found; the command and what it gave.

    ``weights`` is the weights file, or ``""`` for the model's default path; ``options`` go to
    :func:`celldino_utils.embed.embed_data` (``crop_size``, ``limit``).
    """
    found = find_released_weights(model, resolve_path(weights) if weights else None)
    lines = [
        f"celldino embed --model {model} --weights {shown_path(found) if found else '<weights file>'} "
        f"--format {format} --data-dir {data} --level cell --out cells.parquet"
    ]
    if found is None:
        source = get_released_model(model).source
        return "\n".join([*lines, f"Skipped: no weights file of {model}; request them at {source}"])
    out = resolve_path(out_dir) / f"cells_{model}.parquet"
    embed_data(
        format,
        resolve_path(data),
        checkpoint=model,
        weights=found,
        out=out,
        read_options=read_options,
        level="cell",
        progress=False,
        **options,
    )
    return "\n".join([*lines, f"{model}: {read_profiles(out).filter(like='emb_').shape} (cells x features)"])


def channels_check(checkpoint: str, *, hpa: Any, other_channels: Sequence[str]) -> str:
    """Our HPA model embeds four of its own fields, and refuses images with ``other_channels``, naming the gap."""
    model, _ = load_embedding_model(resolve_checkpoint(checkpoint), data_channels=hpa.layout.channels)
    with torch.inference_mode():
        shape = tuple(model(torch.stack([hpa[i] for i in range(4)])[:, :, :64, :64]).shape)
    try:
        load_embedding_model(resolve_checkpoint(checkpoint), data_channels=other_channels)
    except ValueError as error:
        refused = shown_text(str(error), {checkpoint: resolve_checkpoint(checkpoint)})
        return f"HPA fields -> {shape}\nCell Painting -> {refused}"
    return f"HPA fields -> {shape}\nCell Painting -> accepted"


def boc_overrides(
    *, steps: int, batch_size: int, img_size: int, data: str, format: str, out_dir: str, seed: int
) -> list[str]:
    """Training overrides of the guide's small bag-of-channels model: one epoch of ``steps``, two local crops."""
    return [
        "student.channel_mode=boc",
        "optim.epochs=1",
        f"train.epoch_length={steps}",
        f"train.batch_size_per_gpu={batch_size}",
        f"crops.global_crops_size={img_size}",
        f"crops.local_crops_size={img_size // 2}",
        "crops.local_crops_number=2",
        f"data.path={resolve_path(data)}",
        f"data.format={format}",
        f"train.out_dir={resolve_path(out_dir)}",
        f"train.seed={seed}",
        "train.resume=false",
        "train.progress_bar=false",
    ]


def follow_guide(
    *,
    hpa_data: str,
    hpa_format: str,
    hpa_read_options: dict[str, Any],
    cellpainting_data: str,
    cellpainting_format: str,
    cellpainting_read_options: dict[str, Any],
    released_model: str,
    released_weights: str,
    released_format: str,
    released_data: str,
    released_read_options: dict[str, Any],
    released_n_cells: int,
    hpa_checkpoint: str,
    profiles_dir: str,
    feature_sets: Sequence[str],
    boc_config: str,
    boc_steps: int,
    boc_batch_size: int,
    boc_img_size: int,
    boc_out_dir: str,
    work_dir: str,
    cell_crop_size: int,
    control_col: str,
    control_value: str,
    seed: int,
) -> Guide:
    """The adoption guide's steps: released models, channels by name, a bag-of-channels model, the benchmark.

    Parameters
    ----------
    hpa_*, cellpainting_*
        The run's HPA fields and Cell Painting sites; ``hpa_checkpoint`` is our HPA model (chapter 01).
    released_*
        A released model, its weights file (``""``: its default path; the step is skipped without one), and the
        data and number of cells it embeds here.
    profiles_dir, feature_sets
        Chapter 03's sphered well profiles of each feature set, benchmarked beside the bag-of-channels model.
    boc_*
        The bag-of-channels model: config, steps, batch, crop size and output folder.
    work_dir, cell_crop_size
        Where the guide's embeddings go, and the single-cell crop side.
    control_col, control_value, seed
        The control wells (sphering, retrieval) and the seed.
    """
    released = released_table(released_format)
    options = {"crop_size": cell_crop_size, "limit": released_n_cells}
    data = {"format": released_format, "data": released_data, "read_options": released_read_options}
    released_run = embed_with_released(released_model, weights=released_weights, **data, out_dir=work_dir, **options)
    fields = open_fields(hpa_format, resolve_path(hpa_data), **hpa_read_options)
    channels = channels_check(hpa_checkpoint, hpa=fields, other_channels=get_layout(cellpainting_format).channels)
    overrides = boc_overrides(
        steps=boc_steps,
        batch_size=boc_batch_size,
        img_size=boc_img_size,
        data=hpa_data,
        format=hpa_format,
        out_dir=boc_out_dir,
        seed=seed,
    )
    boc_checkpoint = train(load_train_config(resolve_path(boc_config), overrides)) / "teacher_backbone.pth"
    out = embed_data(
        cellpainting_format,
        resolve_path(cellpainting_data),
        checkpoint=boc_checkpoint,
        level="cell",
        crop_size=cell_crop_size,
        native_size=True,
        read_options=cellpainting_read_options,
        out=profile_path(resolve_path(work_dir), dataset="cp", level="cell", features="boc"),
        progress=False,
    )
    cells = read_profiles(out)
    boc = f"{len(cells)} Cell Painting cells -> {cells.filter(like='emb_').shape[1]} features "
    boc += f"({get_layout(cellpainting_format).n_channels} channels x one HPA-trained class token each)"
    control_query = f"{control_col} == {control_value!r}"
    wells = {
        name: read_profiles(
            profile_path(resolve_path(profiles_dir), dataset="cp", level="well", features=name, correction="sphering")
        )
        for name in feature_sets
    }
    sphering = {"zero_mad": "drop", "epsilon": SPHERING_EPSILON, "random_state": seed}
    wells["bag of channels (HPA-trained)"] = correct(
        aggregate_wells(cells), method="sphering", control_query=control_query, **sphering
    )
    retrieval = retrieval_table(wells, control_query=control_query, seed=seed).round(3)
    return Guide(released, released_run, channels, boc, retrieval)
