"""The data interface between datasets and the trainer.

A dataset is a set of named *fields* (``"x"``, ``"y"``, ``"tgt_in"``...), each a tensor
with the samples on axis 0. Input nodes read the field named by their ``field``
parameter; loss nodes read their ``target`` field. Small sets live in memory as
:class:`TensorData` (the trainer batches them on the device with no per-sample Python);
large ones are any ``torch.utils.data.Dataset`` whose items are ``dict[str, Tensor]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio.core.errors import StudioError

if TYPE_CHECKING:  # torch is imported where data is really loaded, not when the editor starts
    import torch


class DataError(StudioError):
    """A dataset that cannot be loaded; the message names the file, line or field."""


class TensorData:
    """Equal-length tensors by field name, held in memory."""

    def __init__(self, fields: dict[str, torch.Tensor]) -> None:
        if not fields:
            raise DataError("a dataset needs at least one field")
        sizes = {k: int(v.shape[0]) for k, v in fields.items()}
        if len(set(sizes.values())) != 1:
            raise DataError(f"fields have different sample counts: {sizes}")
        self.fields = fields

    def __len__(self) -> int:
        return int(next(iter(self.fields.values())).shape[0])

    def __getitem__(self, index) -> dict[str, torch.Tensor]:
        return {k: v[index] for k, v in self.fields.items()}

    def subset(self, index: torch.Tensor) -> "TensorData":
        return TensorData({k: v[index] for k, v in self.fields.items()})

    def to(self, device) -> "TensorData":
        return TensorData({k: v.to(device) for k, v in self.fields.items()})


@dataclass
class DatasetInfo:
    name: str
    task: str  # classification, sequence_classification, seq2seq, detection, regression
    description: str = ""
    classes: list[str] | None = None
    # What each field holds, for the Input node and previews, e.g.
    # {"x": {"kind": "image", "channels": 1, "height": 8, "width": 8}}
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataSplit:
    train: Any  # TensorData or a torch Dataset of dict samples
    val: Any
    info: DatasetInfo
    skipped: list[str] = field(default_factory=list)  # what an importer had to leave out, and why
    # Applied by the trainer to each training batch (a dict of tensors already on the
    # device); vectorised, so no per-sample Python runs in the training thread.
    augment: Any = None


def split_indices(n: int, val_fraction: float, seed: int, groups: torch.Tensor | None = None):
    """Train and validation indices drawn apart with a fixed seed. With ``groups``
    (e.g. one id per speaker), whole groups go to one side."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    if groups is None:
        perm = torch.randperm(n, generator=gen)
        n_val = int(round(n * val_fraction))
        if val_fraction > 0 and n > 1:
            n_val = min(max(n_val, 1), n - 1)
        return perm[n_val:], perm[:n_val]
    ids = torch.unique(groups)
    ids = ids[torch.randperm(len(ids), generator=gen)]
    n_val = max(1, int(round(len(ids) * val_fraction))) if val_fraction > 0 else 0
    val_mask = torch.isin(groups, ids[:n_val])
    return torch.nonzero(~val_mask).flatten(), torch.nonzero(val_mask).flatten()
