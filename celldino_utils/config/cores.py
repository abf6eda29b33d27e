"""The CPU cores this process may use, and an equal share of them (torch-free: the runner's check imports it)."""

from __future__ import annotations

import os


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity where the system reports one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def core_share(parts: int) -> int:
    """The cores each of ``parts`` processes gets when they share :func:`available_cores` equally; at least one."""
    return max(1, available_cores() // parts)
