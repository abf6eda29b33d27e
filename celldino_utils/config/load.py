"""Load configurations the dinov2 way: a default YAML holding every key, a small override file, then CLI options.

An override file may name another as its ``base`` (a path relative to its own folder): the base's keys are merged
first, so a recipe shared by several files is written once (``configs/train/tiny_cpu.yaml``).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError

#: An override file may name the file it builds on under this key.
BASE_KEY = "base"
#: The name of the resolved config saved beside a run's outputs (:func:`save_config`), e.g. a training run's.
CONFIG_NAME = "config.yaml"


def _file_layers(file: Path, children: tuple[Path, ...] = ()) -> list[tuple[str, DictConfig]]:
    """``(source, config)`` of ``file``'s bases (the furthest first), then of ``file`` itself without its ``base``."""
    if not file.exists():
        raise FileNotFoundError(f"config file not found: {file}" + (f" (base of {children[-1]})" if children else ""))
    config = OmegaConf.load(file)
    base = config.pop(BASE_KEY, None)
    if base is None:
        return [(str(file), config)]
    base_file = (file.parent / str(base)).resolve()
    if base_file in (*children, file.resolve()):
        raise ValueError(f"{file}: base configs form a cycle through {base_file}")
    return [*_file_layers(base_file, (*children, file.resolve())), (str(file), config)]


def load_config(
    default: str | Path,
    file: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> DictConfig:
    """Merge ``default``, an optional override ``file`` (after its ``base`` files) and ``key=value`` overrides, in that
    order.

    The result is struct-mode: a key that the default file does not declare is an error
    naming the key and the file it came from, so typos never pass silently.
    """
    default = Path(default)
    if not default.exists():
        raise FileNotFoundError(f"default config not found: {default}")
    cfg = OmegaConf.load(default)
    OmegaConf.set_struct(cfg, True)
    layers: list[tuple[str, DictConfig]] = []
    if file is not None:
        layers += _file_layers(Path(file))
    if overrides:
        layers.append(("command-line options", OmegaConf.from_dotlist(list(overrides))))
    for source, layer in layers:
        try:
            cfg = OmegaConf.merge(cfg, layer)
        except ConfigKeyError as err:
            raise KeyError(f"{source}: {err.msg.splitlines()[0]} (not a key of {default})") from None
    return cfg


def save_config(cfg: DictConfig, path: str | Path) -> Path:
    """Write the resolved configuration next to an output, so every result says what made it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, path, resolve=True)
    return path
