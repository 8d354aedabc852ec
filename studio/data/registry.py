"""Built-in datasets and importers by name; ``project.data`` picks one with its options."""

from __future__ import annotations

from dataclasses import dataclass
import importlib
from typing import Any, Callable, Union

from studio.spec.errors import BadParameter
from studio.data.base import DataError, DataSplit
from studio.spec.params import Param

# A loader is loader(seed=..., val_split=..., **options) -> DataSplit, or the text
# "package.module:function" naming one, imported on first use: listing the datasets (the
# data panel does it when the editor opens) then imports neither torch nor the loaders.
Loader = Union[Callable[..., DataSplit], str]


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset or importer: its loader and the options it takes, declared as
    :class:`Param` s. Validation, ``studio data --set`` and the data panel's form all read
    ``params``; an importer declares its ``path`` as a ``file`` or ``folder`` Param."""

    name: str
    loader: Loader
    description: str
    builtin: bool = True  # False for importers that need a path
    params: tuple[Param, ...] = ()

    def option(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise DataError(f"{self.name} has no option {name!r}; it has "
                        + (", ".join(p.name for p in self.params) or "none"))

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` checked against the declared Params (defaults are not added: the
        loader has them); the message names the dataset and the option."""
        out = {}
        for name, value in options.items():
            try:
                out[name] = self.option(name).validate(self.name, value)
            except BadParameter as exc:
                raise DataError(str(exc)) from None
        return out

    def path_param(self) -> Param | None:
        """The ``path`` option when it names a file or folder to read, else None."""
        return next((p for p in self.params if p.name == "path" and p.kind in ("file", "folder")), None)

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


def register_dataset(name: str, loader: Loader, description: str, builtin: bool = True,
                     params: tuple[Param, ...] = ()) -> None:
    """Declare a dataset or importer: ``loader(seed=..., val_split=..., **options)`` and the
    ``params`` it takes. Nothing else needs to know about it: the data panel builds its form
    from the params, and ``studio data --list`` names it."""
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise DataError(f"dataset {name!r} declares an option twice")
    entry = DatasetEntry(name, loader, description, builtin, tuple(params))
    old = _DATASETS.get(name)
    if old is not None and old.target() != entry.target():
        raise DataError(f"dataset {name!r} is already registered (by {old.target()})")
    if old is None or callable(loader):  # the module itself may confirm its lazy entry
        _DATASETS[name] = entry


def dataset(name: str, description: str, builtin: bool = True, params: tuple[Param, ...] = ()):
    """Decorator form of :func:`register_dataset`, written on the loader itself::

        @dataset("points", "Points in a plane", builtin=False, params=(Param("path", "file", None), ...))
        def load_points(seed=0, val_split=0.2, path=None): ...
    """
    def declare(loader: Callable[..., DataSplit]) -> Callable[..., DataSplit]:
        register_dataset(name, loader, description, builtin, params)
        return loader
    return declare


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
    options.pop("test", None)  # the test split's own options: read by studio.evaluation
    split = entry.resolve()(seed=seed, val_split=val_split, **entry.validate_options(options))
    if augment:
        from studio.data.augment import build_augment

        split.augment = build_augment(augment, split.info)
    return split


@dataclass(frozen=True)
class Augmentation:
    """One augmentation: its Param (0 is off) and the input kinds it applies to."""

    param: Param
    kinds: tuple[str, ...]


AUGMENTATIONS: tuple[Augmentation, ...] = (
    Augmentation(Param("flip", "float", 0.0, 0.0, 1.0, doc="Mirror left-right with this probability "
                       "(true: 0.5)"), ("image",)),
    Augmentation(Param("rotate", "float", 0.0, 0.0, 180.0, doc="Degrees: a random angle in [-rotate, rotate]"),
                 ("image",)),
    Augmentation(Param("shift", "float", 0.0, 0.0, 0.5, doc="Fraction of the size: a random move on each axis"),
                 ("image",)),
    Augmentation(Param("gain", "float", 0.0, 0.0, 40.0, doc="Decibels: a random gain in [-gain, gain]"),
                 ("waveform",)),
    Augmentation(Param("time_shift", "float", 0.0, 0.0, 0.5, doc="Fraction of the length: a random delay "
                       "or advance, zero-filled"), ("waveform",)),
    Augmentation(Param("noise", "float", 0.0, 0.0, 10.0, doc="Standard deviation of added Gaussian noise"),
                 ("image", "waveform")),
)
AUGMENT_SEED = Param("seed", "int", 0, 0, 2**31 - 1, doc="Seed of the random draws (repeatable)")


def augment_params(kinds: set[str] | None = None) -> tuple[Param, ...]:
    """The augmentation Params for data with these input kinds (all when None), then the seed."""
    return tuple(a.param for a in AUGMENTATIONS if kinds is None or kinds & set(a.kinds)) + (AUGMENT_SEED,)


def validate_augment(config: Any, kinds: set[str], dataset: str = "") -> dict[str, Any]:
    """An ``augment`` section checked against the Params of the augmentations that apply
    to data of ``kinds``; ``flip: true`` is short for a probability of 0.5."""
    if not isinstance(config, dict):
        raise DataError(f"augment must be an object like {{\"flip\": 0.5, \"noise\": 0.05}}, got {config!r}")
    by_name = {a.param.name: a for a in AUGMENTATIONS}
    allowed = {p.name: p for p in augment_params(kinds)}
    out = {}
    for key, value in config.items():
        if key not in allowed:
            if key in by_name:
                what = " or ".join("images" if k == "image" else "audio" for k in by_name[key].kinds)
                raise DataError(f"augmentation {key!r} applies to {what}; dataset {dataset!r} has none "
                                f"(its augmentations: {', '.join(sorted(set(allowed) - {'seed'})) or 'none'})")
            raise DataError(f"unknown augmentation {key!r}; known: {', '.join(by_name)}, seed")
        if key == "flip" and isinstance(value, bool):
            value = 0.5 if value else 0.0
        try:
            out[key] = allowed[key].validate("augment", value)
        except BadParameter as exc:
            raise DataError(str(exc)) from None
    return out
