"""Which files a notebook's kernel opens for reading, for a strict run to hold against what the notebook declares.

A strict run starts each kernel with :func:`record_reads` (an audit hook, :pep:`578`): every file the kernel's
Python code opens for reading under the watched folders is appended to a log, one path a line. Files read by
native code without Python's ``open`` (Parquet through Arrow) are not seen: the declarations cover them, and
the check of written files does not depend on this log.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _opened_for_reading(mode: Any, flags: Any) -> bool:
    """Whether an ``open`` audit event's ``mode`` (builtins) or ``flags`` (``os.open``) only read."""
    if isinstance(mode, str):
        return not set(mode) & set("wax+")
    return isinstance(flags, int) and not flags & _WRITE_FLAGS


def record_reads(log: str, roots: Iterable[str]) -> None:
    """Append to ``log`` the absolute path of every file this process opens for reading under ``roots``.

    Parameters
    ----------
    log : str
        The file to append to (opened once, line-buffered).
    roots : Iterable[str]
        Absolute folders; files elsewhere (the Python installation, the package) are not recorded.
    """
    prefixes = tuple(os.path.join(root, "") for root in roots)
    handle = open(log, "a", buffering=1)  # noqa: SIM115 - open for the life of the kernel

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not isinstance(args[0], str | bytes | os.PathLike):
            return
        try:
            path = os.path.abspath(os.fsdecode(args[0]))
            if path.startswith(prefixes) and _opened_for_reading(args[1], args[2]):
                handle.write(path + "\n")
        except (TypeError, ValueError, OSError):  # an event this hook cannot read: never fail the kernel
            return

    sys.addaudithook(hook)


def kernel_lines(log: Path, roots: Iterable[Path]) -> list[str]:
    """The Python lines a kernel runs at start-up to record its reads into ``log`` (``IPKernelApp.exec_lines``).

    They run this module's source rather than import it, so the kernel records its reads whichever
    ``celldino_utils`` (if any) its path would import.
    """
    folders = [str(root) for root in roots]
    source = Path(__file__).read_text()
    return [f"_audit = {{}}; exec({source!r}, _audit); _audit['record_reads']({str(log)!r}, {folders!r}); del _audit"]


def recorded_reads(log: Path) -> list[Path]:
    """The files a kernel recorded in ``log``, each once, in the order first read (empty without a log)."""
    if not log.exists():
        return []
    return [Path(line) for line in dict.fromkeys(log.read_text().splitlines()) if line]
