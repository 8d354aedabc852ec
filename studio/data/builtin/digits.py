"""Handwritten digits: scikit-learn's 1,797 8x8 images (shipped with scikit-learn)."""

from __future__ import annotations

import torch

from studio.data.base import DatasetInfo, DataSplit, TensorData, split_indices


def load_digits_split(seed: int = 0, val_split: float = 0.2, classes: list[int] | None = None,
                      per_class: int = 0) -> DataSplit:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(d.target, dtype=torch.long)
    if classes is not None:
        keep = torch.isin(y, torch.tensor(classes))
        x, y = x[keep], y[keep]
        remap = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([remap[int(v)] for v in y], dtype=torch.long)
    data = TensorData({"x": x, "y": y})
    tr, va = split_indices(len(data), val_split, seed)
    names = [str(c) for c in (classes if classes is not None else range(10))]
    if per_class > 0:  # a few-shot training set (for fine-tuning); validation stays whole
        tr = torch.cat([tr[y[tr] == c][:per_class] for c in range(len(names))]).sort().values
    info = DatasetInfo("digits", "classification", "8x8 grey images of handwritten digits",
                       classes=names, inputs={"x": {"kind": "image", "channels": 1, "height": 8, "width": 8}})
    return DataSplit(data.subset(tr), data.subset(va), info)
