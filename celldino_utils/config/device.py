"""Pick the compute device: CUDA, then Apple MPS, then CPU, unless the caller says otherwise."""

from __future__ import annotations

import os

import torch

DEVICE_ENV = "CELLDINO_DEVICE"


def select_device(preference: str | None = None) -> torch.device:
    """Return the device to run on.

    Parameters
    ----------
    preference
        ``"auto"`` (or None), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``. When None,
        the ``CELLDINO_DEVICE`` environment variable is read, then ``"auto"`` is used.

    Raises
    ------
    ValueError
        If the requested device is not available on this machine.
    """
    preference = preference or os.environ.get(DEVICE_ENV) or "auto"
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {preference!r} requested but CUDA is not available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {preference!r} requested but Apple MPS is not available")
    return device
