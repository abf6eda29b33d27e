"""The training chapter's runs: train a model from a config, or take a released one as it is (the paper profile)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from IPython.display import Markdown
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import Dataset

from celldino_utils.chapters.shown import shown_figure
from celldino_utils.config import resolve_path
from celldino_utils.config.workers import worker_pool
from celldino_utils.embed.model import resolve_checkpoint
from celldino_utils.io.datasets import open_images
from celldino_utils.models import get_released_model, load_released_model
from celldino_utils.plot import plot_crop_channels, plot_training_logs
from celldino_utils.train import CONFIG_NAME, LOG_NAME, load_train_config, read_log, train
from celldino_utils.train.checkpoint import BACKBONE_NAME
from celldino_utils.train.data import MultiCropDataset, build_augmentation


@dataclass(frozen=True)
class ModelRun:
    """One model of the training chapter.

    Attributes
    ----------
    checkpoint : str or Path
        What the next chapters embed with: our teacher backbone file, or the released name / model card taken.
    log : pandas.DataFrame or None
        The per-step training log (``step``, losses, ``teacher_entropy``, ``log_n_prototypes``...); None for a
        model taken as released.
    """

    checkpoint: str | Path
    log: pd.DataFrame | None

    def overview(self) -> pd.DataFrame:
        """First, middle and last steps of the log; for a released model, its registry entry."""
        if self.log is None:
            model = get_released_model(self.checkpoint)
            return pd.DataFrame(
                [{"model": model.name, "architecture": f"{model.arch}/{model.patch_size}",
                  "channels": model.channels_text, "trained on": model.training_data}]
            )  # fmt: skip
        return self.log.iloc[[0, len(self.log) // 2, -1]]

    def _training_config(self, what: str) -> DictConfig:
        """The run's resolved training config; a model taken as released has none (``what`` names the need)."""
        if self.log is None:
            raise ValueError(f"{self.checkpoint}: taken as released; its {what} are not known here")
        return OmegaConf.load(Path(self.checkpoint).parent / CONFIG_NAME)

    def training_images(self) -> Dataset:
        """The images this run trained on, opened as its config says (fields, or single cells at its crop size).

        Raises
        ------
        ValueError
            For a model taken as released: its training data are not known here.
        """
        data = self._training_config("training data").data
        return open_images(data.format, data.path, level=data.level, crop_size=data.get("cell_crop_size"))

    def training_crops(self, images: Dataset, positions: Sequence[int], *, seed: int = 0) -> torch.Tensor:
        """The global crops of ``images`` at ``positions`` as this run's training drew them (augmented, normalised).

        Returns
        -------
        torch.Tensor
            ``(len(positions), G, C, S, S)``: the run's ``G`` global crops of side ``S`` per image.

        Raises
        ------
        ValueError
            For a model taken as released: its training augmentation is not known here.
        """
        cfg = self._training_config("training crops")
        samples = MultiCropDataset(images, build_augmentation(cfg), seed=seed)
        return torch.stack([torch.stack(samples[int(position)]["global_crops"]) for position in positions])


def train_or_take(config_file: str | Path, overrides: Sequence[str], *, pretrained: str | Path = "") -> ModelRun:
    """Train a model from ``config_file`` with ``overrides``, or take the ``pretrained`` one instead.

    Parameters
    ----------
    config_file, overrides
        The training config and its ``key=value`` overrides (:func:`celldino_utils.train.load_train_config`).
    pretrained
        A released model's name or a model card (relative paths under the project root); when given, nothing is
        trained: its weights are loaded once, strictly, so a wrong or missing file stops here and not in a later
        chapter.

    Raises
    ------
    FileNotFoundError, ValueError
        From :func:`celldino_utils.models.load_released_model`: missing weights (with where to request them), a
        file named for another model or with a wrong hash suffix, or one that does not fit the architecture.
    """
    if pretrained:
        checkpoint = resolve_checkpoint(pretrained)
        load_released_model(get_released_model(checkpoint))
        return ModelRun(checkpoint=checkpoint, log=None)
    run = train(load_train_config(config_file, list(overrides)))
    return ModelRun(checkpoint=run / BACKBONE_NAME, log=read_log(run / LOG_NAME))


def shared_overrides(options: Mapping[str, Any], *, seed: int) -> list[str]:
    """``key=value`` overrides every model of the training chapter shares: the ``options`` that are not None
    (dotted config keys), then the seed, a fresh start and no progress bar (the per-step log says the same)."""
    shared = [f"{key}={value}" for key, value in options.items() if value is not None]
    return [*shared, f"train.seed={seed}", "train.resume=false", "train.progress_bar=false"]


def run_overrides(shared: Sequence[str], *, data: str, format: str, epochs: int, out_dir: str) -> list[str]:
    """The overrides of one run: the shared ones, then its data (resolved), epochs and output folder."""
    run = [f"data.path={resolve_path(data)}", f"data.format={format}", f"optim.epochs={epochs}"]
    return [*shared, *run, f"train.out_dir={out_dir}"]


def plus_plan(plus_epochs: int, plus_init: str, pretrained: Mapping[str, str]) -> tuple[bool, bool]:
    """Whether the chapter trains the natural-image model that Cell-DINO+ starts from, and whether it has Cell-DINO+.

    Cell-DINO+ is trained when ``plus_epochs`` > 0 (from ``plus_init``, or else from the natural-image model
    trained here) or taken as released (``pretrained["hpa_plus"]``); the natural-image model is trained only for a
    Cell-DINO+ trained here without a named start.
    """
    taken = "hpa_plus" in pretrained
    return plus_epochs > 0 and not plus_init and not taken, plus_epochs > 0 or taken


@dataclass(frozen=True)
class TrainedModels:
    """What the training chapter shows.

    Attributes
    ----------
    shared : list of str
        The overrides every run shares (:func:`shared_overrides`).
    runs : dict
        Run name (``HPA``, ``Cell Painting``, and where trained or taken ``Photographs (natural images)`` and
        ``HPA, Cell-DINO+``) -> :class:`ModelRun`.
    crops, losses : matplotlib.figure.Figure or IPython.display.Markdown
        The Cell Painting training crops and the loss curves (saved and closed), or why there are none.
    plus : list
        The Cell-DINO+ runs' overviews, or why there is none.
    """

    shared: list[str]
    runs: dict[str, ModelRun]
    crops: Figure | Markdown
    losses: Figure | Markdown
    plus: list[pd.DataFrame | Markdown]

    @property
    def overviews(self) -> dict[str, pd.DataFrame]:
        """Run name -> first, middle and last steps of its log, or its registry entry (:meth:`ModelRun.overview`)."""
        return {name: run.overview() for name, run in self.runs.items()}


def training_crops_figure(
    run: ModelRun, *, query: str, label_col: str, n_rows: int, seed: int, figures_dir: str
) -> Figure | Markdown:
    """Two global crops of one training image per value of ``label_col`` (controls first), as ``run`` trained.

    The images are those of ``query``; the figure is saved as ``train_cellpainting_crops``. A run taken as
    released has no training crops: a sentence says so.
    """
    if run.log is None:
        return Markdown("The Cell Painting model was taken as released: its training crops are not known here.")
    images = run.training_images()  # fields, or single cells where the config trains on them
    picks = images.metadata.query(query).drop_duplicates(label_col)
    picks = picks.sort_values(["Metadata_pert_type", label_col]).head(n_rows)  # DMSO first
    crops = run.training_crops(images, list(picks.index), seed=seed)
    labels = list(picks[label_col].astype(str))
    figure = plot_crop_channels(crops.numpy(), row_labels=labels, channels=images.layout.channels)
    return shown_figure(figure, figures_dir, "train_cellpainting_crops")


def _train_all(
    *,
    hpa: Mapping[str, Any],
    cellpainting: Mapping[str, Any],
    photographs: Mapping[str, Any],
    options: Mapping[str, Any],
    plus_epochs: int,
    plus_init: str,
    pretrained: Mapping[str, str],
    crops: Mapping[str, Any],
    out_dir: str,
    figures_dir: str,
    seed: int,
    processes: int,
) -> TrainedModels:
    """:func:`train_models` with its parameters grouped by run.

    Parameters
    ----------
    hpa, cellpainting, photographs
        Each run's ``config`` file, ``data``, ``format`` and ``epochs``.
    options
        Dotted config keys -> values shared by every run; None keeps each config's (:func:`shared_overrides`).
    plus_epochs, plus_init, pretrained
        Cell-DINO+'s epochs and start (:func:`plus_plan`), and run (``hpa``, ``cellpainting``, ``hpa_plus``) ->
        a released model or card taken instead of training.
    crops
        :func:`training_crops_figure`'s ``query``, ``label_col`` and ``n_rows``.
    out_dir, figures_dir
        One folder per run under ``out_dir``; the figures' folder.
    processes
        Runs trained side by side (:func:`celldino_utils.config.workers.worker_pool`); 1 trains them in turn here.
    """
    shared, root = shared_overrides(options, seed=seed), resolve_path(out_dir)

    train_natural, with_plus = plus_plan(plus_epochs, plus_init, pretrained)
    with worker_pool(processes) as pool:

        def run(config: Mapping[str, Any], folder: str, extra: Sequence[str] = (), taken: str = "") -> Future:
            spec = {"data": config["data"], "format": config["format"], "epochs": config["epochs"]}
            overrides = run_overrides([*shared, *extra], **spec, out_dir=f"{root}/{folder}")
            return pool.submit(train_or_take, resolve_path(config["config"]), overrides, pretrained=taken)

        # first the run Cell-DINO+ waits for, beside Cell Painting's (in the default, the shorter of the other two);
        # HPA takes the process the photographs free and Cell-DINO+ the next one: on 2 processes the two chains,
        # photographs then HPA and Cell Painting then Cell-DINO+, end close together
        started = {}
        if train_natural:
            started["Photographs (natural images)"] = run(photographs, "photographs")
        started["Cell Painting"] = run(cellpainting, "cellpainting", taken=pretrained.get("cellpainting", ""))
        started["HPA"] = run(hpa, "hpa", taken=pretrained.get("hpa", ""))
        natural = started["Photographs (natural images)"].result().checkpoint if train_natural else plus_init
        if with_plus:
            start = [f"student.init={natural}"] if natural else []
            plus_config = {**hpa, "epochs": plus_epochs}
            started["HPA, Cell-DINO+"] = run(plus_config, "hpa_plus", start, taken=pretrained.get("hpa_plus", ""))
        order = ["HPA", "Cell Painting", "Photographs (natural images)", "HPA, Cell-DINO+"]
        runs = {name: started[name].result() for name in order if name in started}
    figure = training_crops_figure(runs["Cell Painting"], **crops, seed=seed, figures_dir=figures_dir)
    plus = [runs[name].overview() for name in order[2:] if name in runs]
    if not with_plus:
        plus.append(Markdown("No Cell-DINO+ in this profile (`plus_epochs = 0`)."))
    logged = {name: model.log for name, model in runs.items() if model.log is not None}
    losses: Figure | Markdown = Markdown("Every model of this profile was taken as released: no training log.")
    if logged:
        losses = shown_figure(plot_training_logs(logged), figures_dir, "train_losses")
    return TrainedModels(shared, runs, figure, losses, plus)


def train_models(
    *,
    hpa_data: str,
    hpa_format: str,
    hpa_config: str,
    hpa_epochs: int,
    cellpainting_data: str,
    cellpainting_format: str,
    cellpainting_config: str,
    cellpainting_epochs: int,
    photographs_data: str,
    photographs_format: str,
    photographs_config: str,
    photographs_epochs: int,
    plus_epochs: int,
    plus_init: str,
    pretrained: Mapping[str, str],
    crops_query: str,
    crops_label_col: str,
    crops_n_rows: int,
    out_dir: str,
    figures_dir: str,
    seed: int,
    parallel_runs: int,
    **options: Any,
) -> TrainedModels:
    """The training chapter: the HPA and Cell Painting models, Cell-DINO+ and its natural-image start, the figures.

    Parameters
    ----------
    hpa_*, cellpainting_*, photographs_*
        Each run's data folder, format, training config and epochs (the photographs train Cell-DINO+'s start).
    plus_epochs, plus_init, pretrained
        Cell-DINO+'s epochs and start (:func:`plus_plan`), and run (``hpa``, ``cellpainting``, ``hpa_plus``) ->
        a released model or card taken instead of training.
    crops_query, crops_label_col, crops_n_rows
        The Cell Painting images shown as training sees them (:func:`training_crops_figure`).
    out_dir, figures_dir, seed
        One folder per run under ``out_dir``; the figures' folder; the training seed.
    parallel_runs
        Runs trained side by side in as many processes, sharing the CPU cores; 1 trains them in turn in the kernel
        (a GPU). On 2 cores, 2 processes of one thread each finish two runs in about the time of one.
    options
        The notebook's shared options, each None to keep the configs' value: ``arch``, ``patch_size``,
        ``channel_mode``, ``init``, ``img_size`` (local crops are half of it), ``local_crops_number``,
        ``batch_size``, ``epoch_length``, ``base_lr``, ``keep_backbone_every``.
    """
    img_size = options["img_size"]
    keys = {
        "student.arch": options["arch"],
        "student.patch_size": options["patch_size"],
        "student.channel_mode": options["channel_mode"],
        "student.init": options["init"],
        "crops.global_crops_size": img_size,
        "crops.local_crops_size": None if img_size is None else img_size // 2,
        "crops.local_crops_number": options["local_crops_number"],
        "train.batch_size_per_gpu": options["batch_size"],
        "train.epoch_length": options["epoch_length"],
        "optim.base_lr": options["base_lr"],
        "train.keep_backbone_every": options["keep_backbone_every"],
    }
    return _train_all(
        hpa={"config": hpa_config, "data": hpa_data, "format": hpa_format, "epochs": hpa_epochs},
        cellpainting={
            "config": cellpainting_config,
            "data": cellpainting_data,
            "format": cellpainting_format,
            "epochs": cellpainting_epochs,
        },
        photographs={
            "config": photographs_config,
            "data": photographs_data,
            "format": photographs_format,
            "epochs": photographs_epochs,
        },
        options=keys,
        plus_epochs=plus_epochs,
        plus_init=plus_init,
        pretrained=pretrained,
        crops={"query": crops_query, "label_col": crops_label_col, "n_rows": crops_n_rows},
        out_dir=out_dir,
        figures_dir=figures_dir,
        seed=seed,
        processes=parallel_runs,
    )
