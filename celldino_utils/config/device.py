"""Pick the compute device (CUDA, then Apple MPS, then CPU, unless the caller says otherwise) and its precision, and
seed every random number generator a run uses."""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

DEVICE_ENV = "CELLDINO_DEVICE"
PRECISIONS: tuple[str, ...] = ("bf16", "fp32")


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


def default_precision(device: torch.device) -> str:
    """``bf16`` on CUDA, ``fp32`` elsewhere: the precision of embedding and evaluation when none is asked for."""
    return "bf16" if device.type == "cuda" else "fp32"


def precision_context(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on the CPU and on GPUs that support it; nothing for ``fp32`` or elsewhere.

    Raises
    ------
    ValueError
        Naming the precision, if it is not one of :data:`PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision: unknown value {precision!r}; choose one of {list(PRECISIONS)}")
    supported = device.type == "cpu" or (device.type == "cuda" and torch.cuda.is_bf16_supported())
    if precision == "fp32" or not supported:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) from one integer."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
