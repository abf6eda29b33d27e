"""Stamps of files, folders and values: what every freshness check of the companion compares.

One module computes them all, so the runner (notebook inputs, outputs and code), the book build, the synthetic
data sets and the UMAP cache agree on what "unchanged" means:

- :func:`file_stamp`: a file's size and modification time (cheap; a rewritten file counts as changed even when
  its bytes are equal);
- :func:`path_stamp`: that of a file, or for a folder the count and a digest of its files' names and stamps;
- :func:`file_sha256`, :func:`tree_sha256`, :func:`files_sha256`: digests of contents;
- :func:`value_sha256`: the digest of a JSON value (parameters, settings), keys sorted;
- :func:`sha256_hex`: the digest of byte strings, for anything else (a feature matrix).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

#: The stamp of a path where nothing is.
MISSING = "missing"
_CHUNK = 16 * 2**20


def sha256_hex(*parts: bytes) -> str:
    """SHA-256 of the concatenated ``parts``, as 64 lower-case hex digits."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def value_sha256(value: Any) -> str:
    """SHA-256 of ``value`` as canonical JSON (sorted keys, no spaces; other objects by ``str``)."""
    return sha256_hex(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode())


def file_stamp(path: str | Path) -> str:
    """``size=<bytes> mtime_ns=<ns>`` of the file at ``path``."""
    stat = os.stat(path)
    return f"size={stat.st_size} mtime_ns={stat.st_mtime_ns}"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the file at ``path`` (read in 16 MiB chunks).

    Remembered while the file's :func:`file_stamp` stays the same, so a weights file checked against its release
    name and then recorded in an embedding's provenance is read once.
    """
    return _file_sha256(str(Path(path).resolve()), file_stamp(path))


@cache
def _file_sha256(path: str, stamp: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def files_sha256(files: Iterable[Path], *, base: Path) -> str:
    """SHA-256 over ``files`` in the order given: each one's name relative to ``base``, a NUL byte, its bytes."""
    return sha256_hex(
        *(part for file in files for part in (file.relative_to(base).as_posix().encode(), b"\0", file.read_bytes()))
    )


def tree_sha256(path: str | Path) -> dict[str, Any]:
    """``sha256`` over every file of a folder (relative names and contents' digests, sorted) and ``files``, the count.

    A file's ``sha256`` is that of its bytes.
    """
    path = Path(path)
    if path.is_file():
        return {"sha256": file_sha256(path), "files": 1}
    files = sorted(p for p in path.rglob("*") if p.is_file())
    parts = (part for f in files for part in (str(f.relative_to(path)).encode(), bytes.fromhex(file_sha256(f))))
    return {"sha256": sha256_hex(*parts), "files": len(files)}


def files_under(path: Path, skip: Iterable[Path] = ()) -> Iterator[Path]:
    """Every file under ``path`` (itself, if a file), sorted, leaving out the files and folders in ``skip``."""
    if path.is_file():
        yield path
        return
    left_out = frozenset(map(str, skip))
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if os.path.join(folder, d) not in left_out)
        yield from (Path(folder, f) for f in sorted(files) if os.path.join(folder, f) not in left_out)


def snapshot(paths: Iterable[Path], ignore: Iterable[Path] = ()) -> dict[Path, str]:
    """The :func:`file_stamp` by file of every file under ``paths``; missing ones and those in ``ignore`` left out."""
    skip = tuple(ignore)
    return {file: file_stamp(file) for path in paths for file in files_under(path, skip)}


def path_stamp(path: Path, ignore: Iterable[Path] = ()) -> str:
    """A file's :func:`file_stamp`; for a folder, the count and a digest of its files' names and stamps.

    Parameters
    ----------
    path : Path
        An absolute file or folder.
    ignore : Iterable[Path]
        Absolute files and folders under ``path`` to leave out.

    Returns
    -------
    str
        The stamp; :data:`MISSING` when nothing is at ``path``.
    """
    if not path.exists():
        return MISSING
    if path.is_file():
        return file_stamp(path)
    files = snapshot([path], ignore)
    listing = "\n".join(f"{file.relative_to(path).as_posix()} {stamp}" for file, stamp in files.items())
    return f"files={len(files)} sha256={sha256_hex(listing.encode())[:16]}"
