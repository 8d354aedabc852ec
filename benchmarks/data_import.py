"""Importers and augmentation, measured side by side in one run.

- An image folder of N 28x28 PNGs: read into memory, versus read lazily (the scan, a first
  pass through a DataLoader that decodes every file, a second pass served from the cache).
- Augmenting a batch of 64 28x28 images (flip, rotation, shift, noise): the vectorised
  batch function versus the same operations applied sample by sample in Python.

Targets: importing 2,000 images takes a few seconds at most; augmentation costs well under
the ~40 ms a training step of a small CNN takes on this batch.
Run: .venv/bin/python benchmarks/data_import.py [--images 2000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch


def make_folder(root: Path, n: int) -> None:
    from PIL import Image

    g = torch.Generator().manual_seed(0)
    for i in range(n):
        folder = root / f"class_{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (torch.rand(28, 28, generator=g) * 255).to(torch.uint8).numpy()
        Image.fromarray(pixels, "L").save(folder / f"{i}.png")


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def one_pass(dataset) -> int:
    loader = torch.utils.data.DataLoader(dataset, batch_size=64, num_workers=0)
    return sum(len(b["y"]) for b in loader)


def per_sample_augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The same transforms as the batch function, one sample at a time (what it replaces)."""
    out = []
    for img in x:
        if torch.rand(1, generator=gen).item() < 0.5:
            img = img.flip(-1)
        a = (torch.rand(1, generator=gen).item() * 2 - 1) * math.radians(10)
        tx, ty = ((torch.rand(2, generator=gen) * 2 - 1) * 0.2).tolist()
        theta = torch.tensor([[[math.cos(a), -math.sin(a), -tx], [math.sin(a), math.cos(a), -ty]]])
        grid = torch.nn.functional.affine_grid(theta, [1, *img.shape], align_corners=False)
        img = torch.nn.functional.grid_sample(img[None], grid, align_corners=False)[0]
        out.append(img + 0.05 * torch.randn(img.shape, generator=gen))
    return torch.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from studio.data import DatasetInfo, load_data
    from studio.data.augment import build_augment

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "images"
        t_make, _ = timed(lambda: make_folder(root, args.images))
        cfg = {"dataset": "image_folder", "path": str(root)}
        load_data({**cfg, "lazy": True})  # warm-up: imports and the file-system cache
        t_mem, mem = timed(lambda: load_data({**cfg, "lazy": False}))
        t_scan, lazy = timed(lambda: load_data({**cfg, "lazy": True}))
        t_first, n = timed(lambda: one_pass(lazy.train))
        t_second, _ = timed(lambda: one_pass(lazy.train))
    print(f"image folder, {args.images} PNGs of 28x28 (written in {t_make:.2f} s)")
    print(f"  in memory: load {t_mem:.2f} s ({args.images / t_mem:,.0f} images/s)")
    print(f"  lazy:      scan {t_scan:.2f} s, first pass {t_first:.2f} s ({n / t_first:,.0f} images/s), "
          f"cached pass {t_second:.3f} s ({n / t_second:,.0f} images/s)")

    info = DatasetInfo("bench", "classification", inputs={"x": {"kind": "image", "channels": 1, "height": 28, "width": 28}})
    augment = build_augment({"flip": True, "rotate": 10, "shift": 0.1, "noise": 0.05}, info)
    batch = {"x": mem.train.fields["x"][:64], "y": mem.train.fields["y"][:64]}
    gen = torch.Generator().manual_seed(0)
    augment(batch), per_sample_augment(batch["x"], gen)  # warm-up
    t_vec = min(timed(lambda: augment(batch))[0] for _ in range(args.repeat))
    t_loop = min(timed(lambda: per_sample_augment(batch["x"], gen))[0] for _ in range(args.repeat))
    print("augmentation of a batch of 64 images 28x28 (flip, rotate, shift, noise), best of "
          f"{args.repeat}, 1 thread")
    print(f"  vectorised batch: {t_vec * 1000:6.2f} ms ({64 / t_vec:,.0f} samples/s)")
    print(f"  per-sample loop:  {t_loop * 1000:6.2f} ms ({64 / t_loop:,.0f} samples/s), "
          f"{t_loop / t_vec:.1f}x slower")


if __name__ == "__main__":
    main()
