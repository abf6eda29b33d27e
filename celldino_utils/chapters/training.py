"""The training chapter's runs: train a model from a config, or take a released one as it is (the paper profile)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import Dataset

from celldino_utils.embed.model import resolve_checkpoint
from celldino_utils.io.datasets import open_images
from celldino_utils.models import get_released_model, load_released_model
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
