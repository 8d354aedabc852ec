"""Noisy waveforms of four shapes: a generated sequence-classification set."""

from __future__ import annotations

import math

import torch

from studio.data.base import DatasetInfo, DataSplit, TensorData, split_indices

SHAPES = ("sine", "square", "triangle", "sawtooth")


def make_waves(n: int = 2000, length: int = 50, noise: float = 0.3, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, len(SHAPES), (n,), generator=g)
    freq = 1.0 + 3.0 * torch.rand(n, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    t = torch.linspace(0, 1, length).unsqueeze(0)
    u = (freq * t + phase / (2 * math.pi)) % 1.0  # position within a period, 0..1
    sine = torch.sin(2 * math.pi * u)
    square = torch.where(u < 0.5, 1.0, -1.0)
    triangle = 4 * torch.abs(u - 0.5) - 1
    saw = 2 * u - 1
    waves = torch.stack([sine, square, triangle, saw], dim=1)  # [n, 4, length]
    x = waves[torch.arange(n), y] + noise * torch.randn(n, length, generator=g)
    return TensorData({"x": x.unsqueeze(-1).float(), "y": y})


def load_waves(seed: int = 0, val_split: float = 0.2, n: int = 2000, length: int = 50, noise: float = 0.3) -> DataSplit:
    data = make_waves(n, length, noise, seed=1234)  # the data itself is fixed; the seed picks the split
    tr, va = split_indices(len(data), val_split, seed)
    info = DatasetInfo("waves", "classification", "Noisy sine, square, triangle and sawtooth waves",
                       classes=list(SHAPES), inputs={"x": {"kind": "sequence", "length": length, "features": 1}})
    return DataSplit(data.subset(tr), data.subset(va), info)
