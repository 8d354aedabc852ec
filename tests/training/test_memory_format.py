"""Convolutional networks train in channels_last layout on CPU, unless a layer refuses it."""

import json

import pytest
import torch
from torch import nn

from studio.core.project import Project
from studio.data.base import DatasetInfo, DataSplit, TensorData
from studio.layers.spec import Ctor, LayerSpec
from studio.training import TrainingError, train_project
from test_resume import StopAt, same_weights  # this folder is on sys.path (rootdir-less tests)


class FlattenByView(nn.Module):
    """What a hand-written layer often does: ``view``, which needs a contiguous input."""

    def forward(self, x):
        return x.view(x.size(0), -1)


VIEW_FLATTEN = LayerSpec(
    id="ViewFlatten", title="View flatten", category="Test", doc="Flattens with view.",
    infer=lambda params, ins: {"out": ins["in"].with_dims((ins["in"].dims[0], _prod(ins["in"].dims[1:])))},
    build=lambda params, ins: Ctor(FlattenByView, {}),
)


def _prod(dims):
    out = 1
    for d in dims:
        out *= d
    return out


def cnn(graph, flatten="Flatten"):
    graph.add_node("Input", {"kind": "image", "channels": 1, "height": 8, "width": 8, "field": "x"}, node_id="x")
    graph.add_node("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}, node_id="conv")
    graph.add_node("BatchNorm2d", {}, node_id="bn")
    graph.add_node("ReLU", {}, node_id="relu")
    graph.add_node("MaxPool2d", {"kernel_size": 2}, node_id="pool")
    graph.add_node(flatten, {}, node_id="flat")
    graph.add_node("Linear", {"out_features": 3}, node_id="fc")
    graph.add_node("CrossEntropyLoss", {"target": "y"}, node_id="loss")
    for a, b in [("x", "conv"), ("conv", "bn"), ("bn", "relu"), ("relu", "pool"), ("pool", "flat"),
                 ("flat", "fc"), ("fc", "loss")]:
        graph.connect(a, "out", b, "in")
    return graph


def stripes(n=192, val=48, seed=0) -> DataSplit:
    """Three classes: horizontal stripes, vertical stripes, noise."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=gen)
    x = torch.randn(n, 1, 8, 8, generator=gen) * 0.3
    x[y == 0, :, ::2, :] += 1.0
    x[y == 1, :, :, ::2] += 1.0
    data = TensorData({"x": x, "y": y})
    info = DatasetInfo("stripes", "classification", classes=["h", "v", "noise"],
                       inputs={"x": {"kind": "image", "channels": 1, "height": 8, "width": 8}})
    return DataSplit(data.subset(torch.arange(val, n)), data.subset(torch.arange(val)), info)


@pytest.fixture
def cnn_project(graph, tmp_path):
    project = Project(cnn(graph), name="cnn")
    project.training.update(epochs=3, batch_size=32, learning_rate=0.01, seed=3)
    project.path = tmp_path / "cnn.json"
    return project


def layout(result) -> str:
    return json.loads((result.run_dir / "run.json").read_text())["memory_format"]


def test_auto_trains_a_cnn_channels_last_on_cpu_and_returns_an_ordinary_module(cnn_project):
    result = train_project(cnn_project, data=stripes())
    assert layout(result) == "channels_last"
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.metrics["accuracy"] > 0.9
    conv = result.model.layers["conv"].weight
    assert conv.is_contiguous()  # what export and inference get is the usual layout


def test_channels_last_computes_what_the_contiguous_layout_does(cnn_project):
    # SGD: Adam would blow the conv bias's gradient, rounding noise under BatchNorm, up to full steps.
    cnn_project.training.update(optimizer="sgd", learning_rate=0.05)
    fast = train_project(cnn_project, data=stripes(), epochs=2)
    cnn_project.training["memory_format"] = "contiguous"
    plain = train_project(cnn_project, data=stripes(), epochs=2)
    assert layout(plain) == "contiguous"
    a, b = fast.model.state_dict(), plain.model.state_dict()
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-5) for k in a)
    assert fast.history[-1]["val_loss"] == pytest.approx(plain.history[-1]["val_loss"], rel=1e-5)


def test_a_network_without_convolutions_keeps_the_usual_layout(mlp_project, data):
    assert layout(train_project(mlp_project, data=data, epochs=1)) == "contiguous"


def test_stop_and_resume_in_channels_last_is_bit_identical(cnn_project):
    full = train_project(cnn_project, data=stripes())
    stopped = train_project(cnn_project, data=stripes(), callbacks=[StopAt(1, 2)])
    assert stopped.stopped_reason == "stopped"
    resumed = train_project(cnn_project, data=stripes(), resume=stopped.run_dir)
    assert layout(resumed) == "channels_last"
    assert same_weights(full.model, resumed.model)


def test_a_layer_that_needs_contiguous_input_makes_auto_fall_back(registry, graph, tmp_path):
    registry.add(VIEW_FLATTEN)
    project = Project(cnn(graph, flatten="ViewFlatten"), name="viewing")
    project.training.update(epochs=2, batch_size=32, learning_rate=0.01)
    project.path = tmp_path / "viewing.json"
    result = train_project(project, data=stripes())
    assert layout(result) == "contiguous"
    assert result.stopped_reason == "completed"

    project.training["memory_format"] = "channels_last"  # asked for: the failing layer is named
    with pytest.raises(TrainingError, match="flat"):
        train_project(project, data=stripes())
