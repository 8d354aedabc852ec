"""Batches for the training loop.

In-memory :class:`TensorData` is moved to the device once and batched by indexing with
a slice of a permutation: no per-sample Python and no collation. Any other dataset
streams through a ``DataLoader`` with worker processes. Both draw the epoch's order from
a generator seeded by (seed, epoch), so a resumed run sees exactly the order an
uninterrupted one would, and every rank of a distributed run agrees on it.
"""

from __future__ import annotations

import os

import torch

from studio.data.base import TensorData


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=gen)


def shard(order: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    """Every rank gets the same number of samples (the order wraps around to pad)."""
    if world <= 1:
        return order
    per = -(-len(order) // world)
    padded = torch.cat([order, order[: per * world - len(order)]]) if per * world > len(order) else order
    return padded[rank::world]


def _batch_bounds(n: int, batch_size: int, train: bool) -> list[tuple[int, int]]:
    bounds = [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    # A last batch of one sample breaks BatchNorm in training and teaches nothing.
    if train and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds.pop()
    return bounds


class Batches:
    """``num_batches``; ``epoch(order, start)`` yields ``dict[str, Tensor]`` on the device."""

    def __init__(self, data, fields: list[str], batch_size: int, device: torch.device, *,
                 train: bool, rank: int = 0, world: int = 1, workers: int | None = None) -> None:
        self.train = train
        self.batch_size = batch_size
        self.device = device
        self.rank, self.world = rank, world
        self.n = len(data) if data is not None else 0
        self.in_memory = isinstance(data, TensorData) or data is None
        if self.in_memory:
            self.tensors = {k: data.fields[k].to(device) for k in fields} if data is not None else {}
        else:
            self.dataset = data
            self.fields = fields
            cores = os.cpu_count() or 1
            self.workers = min(4, max(0, cores - 1)) if workers is None else workers
        self.local_n = -(-self.n // world) if train and world > 1 else self.n
        self.bounds = _batch_bounds(self.local_n, batch_size, train)

    @property
    def num_batches(self) -> int:
        return len(self.bounds)

    def order(self, seed: int, epoch: int) -> torch.Tensor:
        if not self.train:
            return torch.arange(self.n)
        return shard(epoch_order(self.n, seed, epoch), self.rank, self.world)

    def epoch(self, order: torch.Tensor, start: int = 0, limit: int | None = None):
        bounds = self.bounds[start:limit] if limit is not None else self.bounds[start:]
        if not bounds:
            return
        if self.in_memory:
            tensors = self.tensors
            if not self.train and self.world <= 1:
                # Validation reads in stored order: slices are views, with no gather to copy.
                for a, b in bounds:
                    yield {k: v[a:b] for k, v in tensors.items()}
                return
            order = order.to(self.device)
            for a, b in bounds:
                idx = order[a:b]
                yield {k: v[idx] for k, v in tensors.items()}
            return
        yield from self._stream(order, bounds)

    def _stream(self, order, bounds):
        from torch.utils.data import DataLoader

        batches = [order[a:b].tolist() for a, b in bounds]
        loader = DataLoader(self.dataset, batch_sampler=batches, num_workers=self.workers,
                            pin_memory=self.device.type == "cuda", collate_fn=_collate,
                            # Workers get their seeds from this generator, not from the
                            # global RNG, which belongs to the model (dropout) alone.
                            generator=torch.Generator().manual_seed(len(batches)))
        non_blocking = self.device.type == "cuda"
        for batch in loader:
            yield {k: batch[k].to(self.device, non_blocking=non_blocking) for k in self.fields}


def _collate(samples: list[dict]) -> dict:
    return {k: torch.stack([torch.as_tensor(s[k]) for s in samples]) for k in samples[0]}
