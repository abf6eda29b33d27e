"""Provenance of a profile file: which model made its features, from which weights file, fed which channels.

An embedding file records it in its Parquet footer (key :data:`PROVENANCE_KEY`, a JSON object), beside the
columns of the one profile schema, so the schema is unchanged and the record can be read without the rows.
Files derived from one (corrected profiles, well medians) carry the record of the file they were made from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

#: Key of the provenance record in the Parquet footer's key-value metadata.
PROVENANCE_KEY = b"celldino.provenance"
#: Key of the record in a profile table's ``DataFrame.attrs`` once read.
PROVENANCE_ATTR = "provenance"


def encode_provenance(provenance: Mapping[str, Any]) -> bytes:
    """``provenance`` as the JSON bytes stored in the footer; raise ValueError if a value is not plain JSON."""
    try:
        return json.dumps(dict(provenance), sort_keys=True).encode()
    except TypeError as err:
        raise ValueError(f"provenance: every value must be plain JSON (str, number, list, None): {err}") from None


def decode_provenance(metadata: Mapping[bytes, bytes] | None) -> dict[str, Any]:
    """The record held in Parquet key-value ``metadata`` (a schema's), or {} when there is none."""
    if not metadata or PROVENANCE_KEY not in metadata:
        return {}
    return json.loads(metadata[PROVENANCE_KEY])


def read_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance record of a profile file, read from its footer alone; {} for a file without one.

    Returns
    -------
    dict
        For an embedding file: ``model`` (registry name, model card name, checkpoint path or ``random``),
        ``weights`` and ``weights_sha256`` (the file the weights came from and its SHA-256; None at random
        init), ``channels`` (the channel names fed to the model, in its input order), ``channel_mode``,
        ``format`` and ``level`` of the data embedded.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"profile file not found: {path}")
    return decode_provenance(pq.read_schema(path).metadata)


def provenance_text(provenance: Mapping[str, Any]) -> str:
    """One phrase for tables and notes, e.g. ``cell_dino_cp_vits8 (weights sha256 37d20e9c..., channels DNA, RNA,
    ER, AGP, Mito)``; empty for an empty record."""
    if not provenance:
        return ""
    details = []
    if provenance.get("weights_sha256"):
        details.append(f"weights sha256 {str(provenance['weights_sha256'])[:16]}...")
    if provenance.get("channels"):
        details.append(f"channels {', '.join(provenance['channels'])}")
    return f"{provenance.get('model', 'unknown model')}" + (f" ({'; '.join(details)})" if details else "")


def inputs_text(inputs: Mapping[str, str | Path], *, resolve: Callable[[str], Path] = Path) -> str:
    """Where a table's rows come from: ``method: path`` for each input, with the provenance of a Parquet file
    that records one (the model, its weights' SHA-256 and the channel order fed; :func:`provenance_text`).

    Parameters
    ----------
    inputs
        Method name -> the file it was read from, as the parameters give it (shown as given).
    resolve
        Turns a given path into the file to read (a notebook's ``resolve_path``).
    """
    parts = []
    for method, given in inputs.items():
        path = resolve(str(given))
        record = read_provenance(path) if path.suffix == ".parquet" and path.is_file() else {}
        text = provenance_text(record)
        parts.append(f"{method}: {given}" + (f", from {text}" if text else ""))
    return "; ".join(parts)
