"""Built-in datasets and importers by name; ``project.data`` picks one with its options."""

from __future__ import annotations

from dataclasses import dataclass
import importlib
from typing import Any, Callable, Union

from studio.data.base import DataError, DataSplit

# A loader is loader(seed=..., val_split=..., **options) -> DataSplit, or the text
# "package.module:function" naming one, imported on first use: listing the datasets (the
# data panel does it when the editor opens) then imports neither torch nor the loaders.
Loader = Union[Callable[..., DataSplit], str]


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    loader: Loader
    description: str
    builtin: bool = True  # False for importers that need a path

    def resolve(self) -> Callable[..., DataSplit]:
        if callable(self.loader):
            return self.loader
        module, _, attr = self.loader.partition(":")
        return getattr(importlib.import_module(module), attr)

    def target(self) -> str:
        if isinstance(self.loader, str):
            return self.loader
        return f"{self.loader.__module__}:{self.loader.__qualname__}"


_DATASETS: dict[str, DatasetEntry] = {}
_LOADED = False


def register_dataset(name: str, loader: Loader, description: str, builtin: bool = True) -> None:
    entry = DatasetEntry(name, loader, description, builtin)
    old = _DATASETS.get(name)
    if old is not None and old.target() != entry.target():
        raise DataError(f"dataset {name!r} is already registered (by {old.target()})")
    if old is None or callable(loader):  # the module itself may confirm its lazy entry
        _DATASETS[name] = entry


def _ensure_loaded() -> None:
    # A flag, not "is the table empty": importing one dataset module directly registers it
    # first, and the others must still load.
    global _LOADED
    if not _LOADED:
        _LOADED = True
        import importlib
        import importlib.util

        # Registering happens on import: the built-in sets, then the importers.
        for name in ("studio.data.builtin", "studio.data.importers"):
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)


def dataset_names(builtin_only: bool = False) -> list[str]:
    _ensure_loaded()
    return [n for n, e in _DATASETS.items() if e.builtin or not builtin_only]


def dataset_entry(name: str) -> DatasetEntry:
    _ensure_loaded()
    if name not in _DATASETS:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(_DATASETS)}")
    return _DATASETS[name]


def resolve_data_paths(config: dict[str, Any], base) -> dict[str, Any]:
    """``config`` with a relative ``path`` made absolute against the folder ``base`` (a
    project's folder), so a project and its data can move together; unchanged when
    ``base`` is None."""
    import os
    from pathlib import Path

    config = dict(config or {})
    path = config.get("path")
    if base is not None and isinstance(path, str) and path.strip():
        p = Path(os.path.expanduser(path.strip()))
        if not p.is_absolute():
            config["path"] = str(Path(base) / p)
    return config


def project_folder(project):
    """The folder of the project's file (or of the template it came from), else None."""
    source = getattr(project, "source_path", None)
    return source.resolve().parent if source is not None else None


def data_section(project) -> dict[str, Any]:
    """The project's ``data``, a relative ``path`` read from the project file's folder."""
    return resolve_data_paths(project.data, project_folder(project))


def load_data(config: dict[str, Any], seed: int = 0, val_split: float = 0.2) -> DataSplit:
    """Load what a project's ``data`` section names, e.g. ``{"dataset": "digits"}`` or
    ``{"dataset": "image_folder", "path": "..."}``."""
    if not config or "dataset" not in config:
        raise DataError("the project names no dataset: choose one in the data panel "
                        "(or set data.dataset in the project file)")
    options = {k: v for k, v in config.items() if k != "dataset"}
    entry = dataset_entry(str(config["dataset"]))
    augment = options.pop("augment", None)
    try:
        split = entry.resolve()(seed=seed, val_split=val_split, **options)
    except TypeError as exc:
        raise DataError(f"dataset {entry.name}: bad options {sorted(options)}: {exc}") from None
    if augment:
        from studio.data.augment import build_augment

        split.augment = build_augment(augment, split.info)
    return split
