import os

import torch

from studio.training import train_project
from studio.training.batches import Batches, epoch_order, shard


class DictDataset(torch.utils.data.Dataset):
    """A dataset read sample by sample, as an importer of large folders provides."""

    def __init__(self, data):
        self.fields = data.fields

    def __len__(self):
        return len(self.fields["x"])

    def __getitem__(self, i):
        return {k: v[i] for k, v in self.fields.items()}


def test_streamed_dataset_trains_exactly_like_the_in_memory_one(mlp_project, data):
    from studio.data.base import DataSplit

    in_memory = train_project(mlp_project, data=data, epochs=2)
    streamed = DataSplit(DictDataset(data.train), DictDataset(data.val), data.info)
    loaded = train_project(mlp_project, data=streamed, epochs=2)
    a, b = in_memory.model.state_dict(), loaded.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert in_memory.history[-1]["val_loss"] == loaded.history[-1]["val_loss"]


def test_in_memory_batches_are_slices_of_one_permutation(data):
    batches = Batches(data.train, ["x", "y"], 50, torch.device("cpu"), train=True)
    order = batches.order(seed=3, epoch=1)
    got = torch.cat([b["y"] for b in batches.epoch(order)])
    assert torch.equal(got, data.train.fields["y"][order])
    assert not torch.equal(order, batches.order(seed=3, epoch=2))  # a new order each epoch


def test_shards_cover_the_epoch_with_equal_counts():
    order = epoch_order(11, seed=0, epoch=0)
    parts = [shard(order, r, 3) for r in range(3)]
    assert {len(p) for p in parts} == {4}
    assert set(torch.cat(parts).tolist()) == set(range(11))


def test_threads_default_to_cores_minus_one(mlp_project, data, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    try:
        train_project(mlp_project, data=data, epochs=1, max_batches=1)
        assert torch.get_num_threads() == 3
        mlp_project.training["threads"] = 2
        train_project(mlp_project, data=data, epochs=1, max_batches=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
