"""Write figures next to the run's tables."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure


def save_figure(
    figure: Figure, out_dir: str | Path, name: str, *, formats: tuple[str, ...] = ("png", "pdf")
) -> list[Path]:
    """Save ``figure`` as ``out_dir/name.<format>`` for each format, at 150 dpi; return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.{fmt}" for fmt in formats]
    for path in paths:
        figure.savefig(path, dpi=150, bbox_inches="tight")
    return paths
