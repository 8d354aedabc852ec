"""A small network and data set that train in well under a second."""

from __future__ import annotations

import pytest
import torch

from studio.core.project import Project
from studio.data.base import DatasetInfo, DataSplit, TensorData


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def build_mlp(graph, *, dropout: float = 0.2, batchnorm: bool = True):
    graph.add_node("Input", {"kind": "vector", "features": 6, "field": "x"}, node_id="x")
    graph.add_node("Linear", {"out_features": 16}, node_id="fc1")
    prev = "fc1"
    if batchnorm:
        graph.add_node("BatchNorm1d", {}, node_id="bn")
        graph.connect(prev, "out", "bn", "in")
        prev = "bn"
    graph.add_node("ReLU", {}, node_id="relu")
    graph.add_node("Dropout", {"p": dropout}, node_id="drop")
    graph.add_node("Linear", {"out_features": 3}, node_id="fc2")
    graph.add_node("CrossEntropyLoss", {"target": "y"}, node_id="loss")
    graph.connect("x", "out", "fc1", "in")
    graph.connect(prev, "out", "relu", "in")
    graph.connect("relu", "out", "drop", "in")
    graph.connect("drop", "out", "fc2", "in")
    graph.connect("fc2", "out", "loss", "in")
    return graph


def blobs(n: int = 240, seed: int = 1, val: int = 60) -> DataSplit:
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=gen)
    centres = torch.randn(3, 6, generator=gen) * 3
    x = centres[y] + torch.randn(n, 6, generator=gen)
    data = TensorData({"x": x, "y": y})
    info = DatasetInfo("blobs", "classification", classes=["a", "b", "c"],
                       inputs={"x": {"kind": "vector", "features": 6}})
    return DataSplit(data.subset(torch.arange(val, n)), data.subset(torch.arange(val)), info)


@pytest.fixture
def mlp_project(graph, tmp_path):
    project = Project(build_mlp(graph), name="mlp")
    project.training.update(epochs=3, batch_size=32, learning_rate=0.01, seed=7)
    project.path = tmp_path / "mlp.json"
    return project


@pytest.fixture
def data():
    return blobs()
