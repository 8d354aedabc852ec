"""What every importer shares (its options are declared as Params where it registers,
and checked before its loader runs): path checks, the skipped list, lazy loading with a bounded
cache of decoded items, and the in-memory-or-lazy choice."""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from studio.data.base import DataError, DataSplit, DatasetInfo, TensorData, split_indices
from studio.spec.params import Param

if TYPE_CHECKING:  # torch loads when data is read, not when the importer is declared
    import torch

# Options several importers take.
SIZE = Param("size", "ints", None, 1, 8192, optional=True, count=2,
             doc="[height, width] in pixels (auto: the first image's size)")
GRAYSCALE = Param("grayscale", "bool", None, optional=True,
                  doc="One channel instead of three (auto: when every image is single-channel)")
LAZY = Param("lazy", "bool", None, optional=True,
             doc="Read from disk as needed (auto: when the decoded set passes the memory limit)")

# Above this many decoded bytes a set is read from disk item by item (option ``lazy``).
MEMORY_LIMIT_MB = 512
CACHE_MB = 128


class Skipped(list):
    """What an importer left out, one line each, ``file[:line]: reason``."""

    def add(self, where: str | os.PathLike, reason: str, line: int | None = None) -> None:
        self.append(f"{where}:{line}: {reason}" if line is not None else f"{where}: {reason}")


def existing_folder(path: Any, what: str = "folder") -> Path:
    return _existing(path, what, folder=True)


def existing_file(path: Any, what: str = "file") -> Path:
    return _existing(path, what, folder=False)


def _existing(path: Any, what: str, folder: bool) -> Path:
    if path is None or path == "":
        raise DataError(f"no {what} given: choose one in the data panel (data.path in the project file)")
    p = Path(os.path.expanduser(str(path)))
    if not p.exists():
        raise DataError(f"{what} {p.absolute()} does not exist")
    if p.is_dir() != folder:
        raise DataError(f"{p} is a {'file' if folder else 'folder'}; expected a {what}")
    return p


def natural_key(name: str) -> list:
    """Sort "2" before "10" and "class_9" before "class_10"."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", name) if t]


def class_folders(root: Path, extensions: Sequence[str], skipped: Skipped,
                  ignore_prefix: str | None = None) -> list[tuple[str, list[Path]]]:
    """Subfolders of ``root`` (in natural order) with the files in them that have one of
    ``extensions``. A subfolder with none is reported in ``skipped``; so are stray files
    and folders named with ``ignore_prefix``."""
    exts = {e.lower() for e in extensions}
    classes = []
    for entry in sorted(root.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith("."):
            continue
        if ignore_prefix and entry.name.startswith(ignore_prefix):
            skipped.add(entry, f"folders starting with {ignore_prefix!r} are not classes")
            continue
        if not entry.is_dir():
            skipped.add(entry, "not inside a class folder")
            continue
        files = sorted(f for f in entry.rglob("*") if f.is_file() and f.suffix.lower() in exts)
        if not files:
            skipped.add(entry, f"class folder has no {'/'.join(sorted(exts))} files")
            continue
        classes.append((entry.name, files))
    if not classes:
        raise DataError(f"{root} has no class subfolders with {'/'.join(sorted(exts))} files "
                        "(expected one subfolder per class)")
    return classes


VAL_FOLDERS = ("val", "valid", "validation")


def labelled_files(root: Path, extensions: Sequence[str], skipped: Skipped, ignore_prefix: str | None = None
                   ) -> tuple[list[str], list[tuple[Path, int]], list[bool] | None]:
    """Class names, (file, label) pairs, and which of them are for validation when the
    folder comes split already (``train/`` beside ``val/``, ``valid/`` or ``validation/``,
    each with the class subfolders); otherwise None, and the split is drawn by seed."""
    val_dir = next((root / v for v in VAL_FOLDERS if (root / v).is_dir()), None)
    if not ((root / "train").is_dir() and val_dir is not None):
        classes = class_folders(root, extensions, skipped, ignore_prefix)
        return [n for n, _ in classes], [(f, i) for i, (_, fs) in enumerate(classes) for f in fs], None
    train = class_folders(root / "train", extensions, skipped, ignore_prefix)
    names = [n for n, _ in train]
    index = {n: i for i, n in enumerate(names)}
    files = [(f, i) for i, (_, fs) in enumerate(train) for f in fs]
    is_val = [False] * len(files)
    for name, fs in class_folders(val_dir, extensions, skipped, ignore_prefix):
        if name not in index:
            skipped.add(val_dir / name, f"class {name!r} has no training examples in {root / 'train'}")
            continue
        files += [(f, index[name]) for f in fs]
        is_val += [True] * len(fs)
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in ("train", val_dir.name)):
        if not folder.name.startswith("."):
            skipped.add(folder, f"not used: the data is split into train/ and {val_dir.name}/ already")
    return names, files, is_val


class LazyData:
    """Samples decoded from disk on demand, ``decode(item) -> dict[str, Tensor]``, with the
    most recently used ones kept up to ``cache_bytes``. ``decode`` must be picklable (a
    module-level function or a ``functools.partial`` of one) so DataLoader workers can use it."""

    def __init__(self, items: Sequence[Any], decode: Callable[[Any], dict[str, torch.Tensor]],
                 cache_bytes: int = CACHE_MB * 2**20) -> None:
        import torch

        self.items = list(items)
        self.decode = decode
        self.cache_bytes = int(cache_bytes)
        self._cache: OrderedDict[int, dict[str, torch.Tensor]] = OrderedDict()
        self._cached = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        index = int(index)
        if index < 0:
            index += len(self.items)
        hit = self._cache.get(index)
        if hit is not None:
            self._cache.move_to_end(index)
            return hit
        sample = self.decode(self.items[index])
        size = sum(t.element_size() * t.nelement() for t in sample.values())
        if size <= self.cache_bytes:
            self._cache[index] = sample
            self._cached += size
            while self._cached > self.cache_bytes:
                _, old = self._cache.popitem(last=False)
                self._cached -= sum(t.element_size() * t.nelement() for t in old.values())
        return sample

    def subset(self, index: torch.Tensor) -> "LazyData":
        return LazyData([self.items[int(i)] for i in index], self.decode, self.cache_bytes)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_cache"], state["_cached"] = OrderedDict(), 0
        return state


def use_lazy(option: Any, n: int, bytes_per_item: int, limit_mb: float | None = None) -> bool:
    """``lazy`` may be true, false or None for auto (lazy when the decoded set would pass the limit)."""
    if option == "auto" or option is None:
        return n * bytes_per_item > (MEMORY_LIMIT_MB if limit_mb is None else limit_mb) * 2**20
    return bool(option)


def materialise(items: Sequence[Any], decode: Callable[[Any], dict[str, torch.Tensor]], skipped: Skipped,
                describe: Callable[[Any], str]) -> tuple[dict[str, torch.Tensor], list[int]]:
    """Decode every item into stacked tensors; an item whose decoding raises DataError is
    skipped with its message. Returns the fields and the indices of the items kept."""
    import torch

    samples, kept = [], []
    for i, item in enumerate(items):
        try:
            samples.append(decode(item))
        except DataError as exc:
            skipped.add(describe(item), str(exc))
            continue
        kept.append(i)
    if not samples:
        raise DataError("nothing could be loaded: " + (skipped[0] if skipped else "no samples"))
    fields = {k: torch.stack([s[k] for s in samples]) for k in samples[0]}
    return fields, kept


def finish(data: TensorData | LazyData, info: DatasetInfo, skipped: Skipped, seed: int, val_split: float,
           groups: torch.Tensor | None = None, is_val: list[bool] | None = None) -> DataSplit:
    """Split with the fixed seed (or as the folders say, ``is_val``) and record the split
    and the skipped count in the info."""
    import torch

    if not 0.0 <= float(val_split) < 1.0:
        raise DataError(f"validation split must be at least 0 and below 1, got {val_split}")
    if is_val is not None:
        mask = torch.tensor(is_val, dtype=torch.bool)
        tr, va = torch.nonzero(~mask).flatten(), torch.nonzero(mask).flatten()
        info.extra["presplit"] = True
    else:
        tr, va = split_indices(len(data), float(val_split), int(seed), groups)
    info.extra.setdefault("lazy", isinstance(data, LazyData))
    info.extra["skipped_count"] = len(skipped)
    return DataSplit(data.subset(tr), data.subset(va), info, list(skipped))


def labels_of(split_part: Any, field: str = "y") -> torch.Tensor | None:
    """The label tensor of a split half without decoding lazy items when it can."""
    import torch

    if isinstance(split_part, TensorData):
        return split_part.fields.get(field)
    if isinstance(split_part, LazyData) and split_part.items and isinstance(split_part.items[0], tuple):
        labels = [it[1] for it in split_part.items]
        if all(isinstance(v, int) for v in labels):
            return torch.tensor(labels, dtype=torch.long)
        if all(isinstance(v, list) for v in labels):  # detection: the boxes of each image
            most = max(1, max(len(v) for v in labels))
            out = torch.full((len(labels), most, 5), -1.0)
            for i, boxes in enumerate(labels):
                if boxes:
                    out[i, : len(boxes)] = torch.tensor(boxes)
            return out
    return None
