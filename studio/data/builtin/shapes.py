"""Detection shapes: grey images with circles, squares and triangles, boxes included.

Every image holds one to four shapes of random size, brightness and place over a noisy
background. Fields, as the YOLO importer gives them:

- ``x``     [N, 1, size, size] floats in [0, 1];
- ``boxes`` [N, max_boxes, 5] rows ``(class, cx, cy, w, h)`` as fractions of the image,
  padded with rows of class -1.

Shapes never overlap and no two centres share a cell of ``cell`` pixels, so a grid head
of that stride has one object per cell to find.
"""

from __future__ import annotations

import random

import torch

from studio.data.base import DatasetInfo, DataSplit, TensorData, split_indices

CLASSES = ("circle", "square", "triangle")


def _draw(draw, cls: int, box: tuple[int, int, int, int], fill: int) -> None:
    x1, y1, x2, y2 = box
    if cls == 0:
        draw.ellipse((x1, y1, x2 - 1, y2 - 1), fill=fill)
    elif cls == 1:
        draw.rectangle((x1, y1, x2 - 1, y2 - 1), fill=fill)
    else:
        draw.polygon([((x1 + x2 - 1) / 2, y1), (x2 - 1, y2 - 1), (x1, y2 - 1)], fill=fill)


def _place(rng: random.Random, size: int, cell: int, n: int, lo: int, hi: int):
    placed, cells = [], set()
    for _ in range(n * 30):
        if len(placed) == n:
            break
        s = rng.randint(lo, hi)
        x1, y1 = rng.randint(0, size - s), rng.randint(0, size - s)
        box = (x1, y1, x1 + s, y1 + s)
        c = ((x1 + s / 2) // cell, (y1 + s / 2) // cell)
        apart = all(box[2] + 1 < b[0] or b[2] + 1 < box[0] or box[3] + 1 < b[1] or b[3] + 1 < box[1]
                    for b in placed)
        if apart and c not in cells:
            placed.append(box)
            cells.add(c)
    return placed


def make_shapes(n: int = 4000, size: int = 48, max_objects: int = 4, min_size: int = 8, max_size: int = 16,
                cell: int = 8, seed: int = 1234) -> TensorData:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    images = torch.empty(n, 1, size, size)
    boxes = torch.full((n, max_objects, 5), -1.0)
    for i in range(n):
        bg = rng.randint(0, 255)
        img = Image.new("L", (size, size), bg)
        draw = ImageDraw.Draw(img)
        for j, box in enumerate(_place(rng, size, cell, rng.randint(1, max_objects), min_size, max_size)):
            cls = rng.randrange(len(CLASSES))
            # Keep the shape visible: at least 80 grey levels away from the background.
            fill = rng.choice([v for v in (rng.randint(0, 255) for _ in range(8)) if abs(v - bg) >= 80]
                              or [255 - bg if abs(255 - 2 * bg) >= 80 else (bg + 128) % 256])
            _draw(draw, cls, box, fill)
            x1, y1, x2, y2 = box
            boxes[i, j] = torch.tensor([cls, (x1 + x2) / 2 / size, (y1 + y2) / 2 / size,
                                        (x2 - x1) / size, (y2 - y1) / size])
        images[i, 0] = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(size, size).float() / 255
    g = torch.Generator().manual_seed(seed)
    images = (images + 0.08 * torch.randn(images.shape, generator=g)).clamp(0, 1)
    return TensorData({"x": images, "boxes": boxes})


def load_shapes(seed: int = 0, val_split: float = 0.2, n: int = 4000, size: int = 48) -> DataSplit:
    data = make_shapes(n, size)  # fixed images; the seed picks the split
    tr, va = split_indices(len(data), val_split, seed)
    info = DatasetInfo(
        "shapes", "detection",
        f"{n} grey {size}x{size} images with 1-4 circles, squares and triangles each, with their boxes",
        classes=list(CLASSES),
        inputs={"x": {"kind": "image", "channels": 1, "height": size, "width": size}},
        extra={"boxes_field": "boxes", "max_boxes": 4,
               "box_format": "class cx cy w h (fractions), class -1 = no box"})
    return DataSplit(data.subset(tr), data.subset(va), info)
