"""Each loss reports a metric a person can read: accuracy for classifiers (one class or
several labels), mean absolute error for regression."""

import pytest
import torch

from studio.core.project import Project
from studio.data.base import DatasetInfo, DataSplit, TensorData
from studio.training import train_project


def _split(x, y, task):
    data = TensorData({"x": x, "y": y})
    info = DatasetInfo("synthetic", task, inputs={"x": {"kind": "vector", "features": x.shape[1]}})
    n = len(x) // 4
    return DataSplit(data.subset(torch.arange(n, len(x))), data.subset(torch.arange(n)), info)


def _net(graph, loss, outputs, **params):
    graph.add_node("Input", {"kind": "vector", "features": 4, "field": "x"}, node_id="x")
    graph.add_node("Linear", {"out_features": 16}, node_id="fc1")
    graph.add_node("ReLU", {}, node_id="relu")
    graph.add_node("Linear", {"out_features": outputs}, node_id="fc2")
    graph.add_node(loss, {"target": "y", **params}, node_id="loss")
    for a, b in [("x", "fc1"), ("fc1", "relu"), ("relu", "fc2"), ("fc2", "loss")]:
        graph.connect(a, "out", b, "in")
    return graph


def test_regression_reports_mean_absolute_error(graph, tmp_path):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(400, 4, generator=gen)
    y = (x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]])) + 0.05 * torch.randn(400, 1, generator=gen)
    project = Project(_net(graph, "MSELoss", 1), path=tmp_path / "reg.json")
    project.training.update(epochs=8, batch_size=32, learning_rate=0.01)
    result = train_project(project, data=_split(x, y, "regression"))
    maes = [r["metrics"]["mae"] for r in result.history]
    assert maes[-1] < 0.5 * maes[0]
    with torch.no_grad():  # the figure is what it says: mean |prediction - target| on validation
        val = _split(x, y, "regression").val
        expected = (result.model.eval()(val.fields["x"]) - val.fields["y"]).abs().mean()
    assert maes[-1] == pytest.approx(float(expected), rel=1e-5)


def test_binary_and_multi_label_classifiers_report_accuracy(graph, tmp_path):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(400, 4, generator=gen)
    y = torch.stack([(x[:, 0] > 0), (x[:, 1] + x[:, 2] > 0)], dim=1).float()  # two labels per sample
    project = Project(_net(graph, "BCELoss", 2), path=tmp_path / "bce.json")
    project.training.update(epochs=10, batch_size=32, learning_rate=0.01)
    result = train_project(project, data=_split(x, y, "multilabel"))
    assert result.metrics["accuracy"] > 0.9
    assert result.history[0]["metrics"]["accuracy"] < result.metrics["accuracy"]
