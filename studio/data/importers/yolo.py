"""Detection images with YOLO-format labels.

Layout: ``images/<name>.png|jpg`` and ``labels/<name>.txt`` (same relative path), each label
line ``class cx cy w h`` with the box centre and size as fractions of the image. An image
without a label file has no objects (the YOLO convention). Fields:

- ``x``     [N, C, H, W] floats in [0, 1], resized to ``size`` (boxes are fractions, so
  they need no change);
- ``boxes`` [N, max_boxes, 5] rows ``(class, cx, cy, w, h)``, padded with rows of class -1.

Options: ``path``, ``size`` [height, width] (default the first image's), ``grayscale``,
``max_boxes`` (default the most in one image), ``classes`` (names; default from an
Ultralytics ``data.yaml`` or a ``classes.txt`` next to the folders, else "0", "1", ...),
``lazy`` true/false/"auto".
``images/train`` beside ``images/val`` (labels likewise) keeps that split.
A bad label line skips its image (a half-labelled image would teach the model to miss
objects); a label file with no image is listed as skipped.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from studio.data.base import DataError, DatasetInfo, TensorData
from studio.data.importers._common import (
    GRAYSCALE,
    LAZY,
    SIZE,
    VAL_FOLDERS,
    LazyData,
    Skipped,
    existing_folder,
    finish,
    materialise,
    use_lazy,
)
from studio.data.importers.image_folder import EXTENSIONS, probe, read_image
from studio.data.registry import dataset
from studio.spec.params import Param

if TYPE_CHECKING:  # torch loads when data is read, not when the importer is declared
    import torch


def read_labels(path: Path) -> list[list[float]]:
    """Boxes from one label file; the first bad line raises DataError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from None
    boxes = []
    for line_no, line in enumerate(text.splitlines(), 1):
        cells = line.split()
        if not cells:
            continue
        where = f"{path}:{line_no}"
        if len(cells) != 5:
            raise DataError(f"{where}: expected 'class cx cy w h', got {len(cells)} values")
        try:
            cls = int(cells[0])
            cx, cy, w, h = (float(c) for c in cells[1:])
        except ValueError:
            raise DataError(f"{where}: {line.strip()!r} is not 'class cx cy w h' numbers") from None
        if cls < 0:
            raise DataError(f"{where}: class {cls} is negative")
        if not all(0.0 <= v <= 1.0 for v in (cx, cy, w, h)) or w <= 0 or h <= 0:
            raise DataError(f"{where}: cx cy w h must be fractions of the image in [0, 1], got {cx} {cy} {w} {h}")
        boxes.append([float(cls), cx, cy, w, h])
    return boxes


def _decode(item, size, grayscale, max_boxes) -> dict[str, torch.Tensor]:
    import torch

    path, boxes = item
    t = torch.full((max_boxes, 5), -1.0)
    if boxes:
        t[: len(boxes)] = torch.tensor(boxes[:max_boxes])
    return {"x": read_image(path, size, grayscale), "boxes": t}


def yaml_names(text: str) -> list[str] | None:
    """The ``names`` of an Ultralytics ``data.yaml``, in its three usual spellings (a flow
    list, a block list, an index mapping), read without a YAML library."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        key, _, rest = line.partition(":")
        if key.strip() != "names" or line[:1].isspace():
            continue
        rest = rest.split("#")[0].strip()
        if rest.startswith("["):
            inner = rest.strip("[]")
            return [t.strip().strip("'\"") for t in inner.split(",") if t.strip()]
        names: dict[int, str] = {}
        for item in lines[i + 1:]:
            if not item.strip() or item.strip().startswith("#"):
                continue
            if not item[:1].isspace():
                break
            item = item.strip()
            if item.startswith("- "):
                names[len(names)] = item[2:].strip().strip("'\"")
            elif ":" in item and item.split(":")[0].strip().isdigit():
                k, _, v = item.partition(":")
                names[int(k)] = v.strip().strip("'\"")
        return [names[k] for k in sorted(names)] or None
    return None


def _class_names(root: Path, classes, n: int) -> list[str]:
    if classes is not None:
        if len(classes) < n:
            raise DataError(f"option classes names {len(classes)} classes but the labels use class {n - 1}")
        return list(classes)
    yaml_file = next((root / f for f in ("data.yaml", "data.yml") if (root / f).is_file()), None)
    if yaml_file is not None:
        names = yaml_names(yaml_file.read_text(encoding="utf-8", errors="replace"))
        if names and len(names) >= n:
            return names
    names_file = root / "classes.txt"
    if names_file.is_file():
        names = [ln.strip() for ln in names_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if len(names) < n:
            raise DataError(f"{names_file}: names {len(names)} classes but the labels use class {n - 1}")
        return names
    return [str(i) for i in range(max(n, 1))]


@dataset("yolo", "Detection images with YOLO label files (images/ and labels/)", builtin=False, params=(
    Param("path", "folder", None, doc="The folder with images/ and labels/"),
    SIZE, GRAYSCALE,
    Param("max_boxes", "int", None, 1, 10_000, optional=True,
          doc="Boxes kept per image (auto: the most in one image)"),
    Param("classes", "strs", None, optional=True,
          doc="Class names (auto: from data.yaml or classes.txt, else 0, 1, ...)"),
    LAZY))
def load_yolo(seed: int = 0, val_split: float = 0.2, path: str | None = None, size=None,
              grayscale: bool | None = None, max_boxes: int | None = None, classes=None, lazy=None):
    root = existing_folder(path, "detection folder")
    images_dir = existing_folder(root / "images", "images folder")
    labels_dir = root / "labels"
    skipped = Skipped()
    images = {p.relative_to(images_dir).with_suffix(""): p for p in sorted(images_dir.rglob("*"))
              if p.is_file() and p.suffix.lower() in EXTENSIONS}
    if not images:
        raise DataError(f"{images_dir} has no images ({'/'.join(EXTENSIONS)})")
    if labels_dir.is_dir():
        for lab in sorted(labels_dir.rglob("*.txt")):
            if lab.relative_to(labels_dir).with_suffix("") not in images:
                skipped.add(lab, f"label file with no image of the same name in {images_dir}")
    presplit = (images_dir / "train").is_dir() and any((images_dir / v).is_dir() for v in VAL_FOLDERS)
    items, flags, modes, first_size, unlabelled = [], [], set(), None, 0
    for key, img in images.items():
        lab = labels_dir / key.with_suffix(".txt")
        try:
            dims, mode = probe(img)
            boxes = read_labels(lab) if lab.is_file() else []
        except DataError as exc:
            if str(exc).startswith(str(lab)):  # already names the label file and line
                skipped.append(f"{exc} (image {img.name} left out)")
            else:
                skipped.add(img, str(exc))
            continue
        unlabelled += not lab.is_file()
        first_size = first_size or dims
        modes.add(mode)
        items.append((img, boxes))
        flags.append(key.parts[0] in VAL_FOLDERS)
    if not items:
        raise DataError(f"{root}: no usable images; first problem: {skipped[0]}")
    size = tuple(size) if size else first_size
    if grayscale is None:
        grayscale = modes <= {"1", "L", "I", "I;16", "F", "LA"}
    most = max(len(b) for _, b in items)
    if max_boxes is None:
        max_boxes = max(most, 1)
    elif most > max_boxes:
        over = sum(len(b) > max_boxes for _, b in items)
        skipped.append(f"{root}: {over} images have more than max_boxes {max_boxes} boxes; the extra boxes "
                       "were left out")
    n_classes = 1 + int(max((b[0] for _, bs in items for b in bs), default=0))
    names = _class_names(root, classes, n_classes)
    channels = 1 if grayscale else 3
    decode = functools.partial(_decode, size=size, grayscale=grayscale, max_boxes=max_boxes)
    if use_lazy(lazy, len(items), channels * size[0] * size[1] * 4):
        data = LazyData(items, decode)
    else:
        fields, kept = materialise(items, decode, skipped, describe=lambda it: it[0])
        flags = [flags[i] for i in kept]
        data = TensorData(fields)
    info = DatasetInfo(
        "yolo", "detection", f"Detection images from {root}", classes=names,
        inputs={"x": {"kind": "image", "channels": channels, "height": size[0], "width": size[1]}},
        extra={"path": str(root), "boxes_field": "boxes", "max_boxes": max_boxes,
               "box_format": "class cx cy w h (fractions), class -1 = no box", "unlabelled_images": unlabelled})
    return finish(data, info, skipped, seed, val_split, is_val=flags if presplit else None)
