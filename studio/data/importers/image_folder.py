"""Image folder: one subfolder per class, any format Pillow reads, resized to one size.

Options: ``path``; ``size`` [height, width] (default: the first image's size);
``grayscale`` true/false (default: true when every image is single-channel);
``lazy`` true/false/"auto". Pixels are floats in [0, 1], channels first. A folder split
already into ``train/`` and ``val/`` (each with the class subfolders) keeps that split.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from studio.data.base import DataError, DatasetInfo, DataSplit, TensorData
from studio.data.importers._common import (
    GRAYSCALE,
    LAZY,
    SIZE,
    LazyData,
    Skipped,
    existing_folder,
    finish,
    labelled_files,
    materialise,
    use_lazy,
)
from studio.data.registry import dataset
from studio.spec.params import Param

if TYPE_CHECKING:  # torch loads when data is read, not when the importer is declared
    import torch

WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_image(path: Path, size: tuple[int, int], grayscale: bool) -> torch.Tensor:
    """One image as a float tensor [C, H, W] in [0, 1]; a file Pillow cannot decode raises
    DataError naming it."""
    import torch

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.mode in WIDE_MODES:
                return _read_wide(im, size, grayscale)
            if im.format == "JPEG":  # decode a big photo at a fraction of its size: much faster
                im.draft("L" if grayscale else "RGB", (size[1], size[0]))
            im = ImageOps.exif_transpose(im)  # phone photos are stored sideways with a rotation tag
            im = im.convert("L" if grayscale else "RGB")
            if im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            raw = im.tobytes()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc})") from None
    channels = 1 if grayscale else 3
    t = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(size[0], size[1], channels)
    return t.permute(2, 0, 1).float().div_(255.0)


def _read_wide(im, size: tuple[int, int], grayscale: bool) -> torch.Tensor:
    """16-bit and float grey images: Pillow's conversion to 8 bits clips them (most of a
    16-bit scan turns white), so scale by the format's range instead."""
    import torch

    from PIL import Image

    scale = 1.0 if im.mode == "F" else 65535.0
    im = im.convert("F")
    if im.size != (size[1], size[0]):
        im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    t = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.float32).view(1, size[0], size[1]) / scale
    t = t.clamp_(0.0, 1.0)
    return t if grayscale else t.expand(3, -1, -1).clone()


def probe(path: Path) -> tuple[tuple[int, int], str]:
    """Size (height, width) and mode from the header only, without decoding pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return (im.size[1], im.size[0]), im.mode
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"not a readable image ({exc.__class__.__name__}: {exc})") from None


def _decode(item: tuple[Path, int], size: tuple[int, int], grayscale: bool) -> dict[str, torch.Tensor]:
    import torch

    path, label = item
    return {"x": read_image(path, size, grayscale), "y": torch.tensor(label, dtype=torch.long)}


@dataset("image_folder", "Images in a folder with one subfolder per class (PNG, JPEG, ...)", builtin=False, params=(
    Param("path", "folder", None, doc="The folder with one subfolder per class"),
    SIZE, GRAYSCALE, LAZY))
def load_image_folder(seed: int = 0, val_split: float = 0.2, path: str | None = None, size=None,
                      grayscale: bool | None = None, lazy=None) -> DataSplit:
    root = existing_folder(path, "image folder")
    skipped = Skipped()
    names, files, is_val = labelled_files(root, EXTENSIONS, skipped)
    items, flags, modes, first_size = [], [], set(), None
    for i, (f, label) in enumerate(files):
        try:
            dims, mode = probe(f)
        except DataError as exc:
            skipped.add(f, str(exc))
            continue
        first_size = first_size or dims
        modes.add(mode)
        items.append((f, label))
        flags.append(is_val[i] if is_val else False)
    if not items:
        raise DataError(f"{root}: none of the images could be read; first problem: {skipped[0]}")
    size = tuple(size) if size else first_size
    if grayscale is None:
        grayscale = modes <= {"1", "L", "I", "I;16", "F", "LA"}
    channels = 1 if grayscale else 3
    decode = functools.partial(_decode, size=size, grayscale=grayscale)
    if use_lazy(lazy, len(items), channels * size[0] * size[1] * 4):
        data = LazyData(items, decode)
    else:
        fields, kept = materialise(items, decode, skipped, describe=lambda it: it[0])
        data, flags = TensorData(fields), [flags[i] for i in kept]
    info = DatasetInfo(
        "image_folder", "classification", f"Images from {root}", classes=names,
        inputs={"x": {"kind": "image", "channels": channels, "height": size[0], "width": size[1]}},
        extra={"path": str(root)})
    return finish(data, info, skipped, seed, val_split, is_val=flags if is_val else None)
