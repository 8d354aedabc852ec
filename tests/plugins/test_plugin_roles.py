"""A plugin adds a loss, an output or an input kind by declaring it, and each works
everywhere a built-in one does: check, compile, train, export, the data fit check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from studio.compile.module import compile_graph
from studio.core.analysis import analyze
from studio.core.errors import BadParameter
from studio.core.graph import Graph
from studio.core.project import Project
from studio.data.base import DatasetInfo, DataSplit, TensorData
from studio.data.preview import input_params
from studio.layers import builtin_registry
from studio.plugins import load_plugins
from studio.spec.inputs import unregister_input_kind
from studio.training import train_project

EXAMPLES = Path(__file__).parent / "examples"


def _with_plugin(name: str, folder: Path):
    """A fresh registry with the built-ins and this one plugin, found as a user's would be:
    the rest of the suite never sees it."""
    shutil.copy(EXAMPLES / f"{name}.py", folder)
    reg = builtin_registry()
    report = load_plugins(reg, folders=[folder], entry_points=False)
    assert report.failed == [] and len(report.loaded) == 1, report.failed
    return reg


@pytest.fixture
def focal_registry(tmp_path):
    return _with_plugin("focal_loss", tmp_path)


@pytest.fixture
def multichannel_registry(tmp_path):
    reg = _with_plugin("multichannel_kind", tmp_path)
    yield reg
    unregister_input_kind("multichannel")


def _blobs(n=300, val=75, seed=3):
    gen = torch.Generator().manual_seed(seed)
    label = torch.randint(0, 3, (n,), generator=gen)
    x = torch.randn(3, 4, generator=gen)[label] * 2 + torch.randn(n, 4, generator=gen)
    label[::10] = -1  # unlabelled samples: the loss and the metric leave them out
    data = TensorData({"x": x, "label": label})
    info = DatasetInfo("blobs", "classification", inputs={"x": {"kind": "vector", "features": 4}})
    return DataSplit(data.subset(torch.arange(val, n)), data.subset(torch.arange(val)), info)


def _focal_graph(reg, with_scores=True):
    g = Graph(reg)
    g.add_node("Input", {"kind": "vector", "features": 4, "field": "x"}, node_id="x")
    g.add_node("Linear", {"out_features": 16}, node_id="fc1")
    g.add_node("ReLU", {}, node_id="relu")
    g.add_node("Linear", {"out_features": 3}, node_id="fc2")
    g.add_node("FocalLoss", {"labels": "label", "strength": 2.0}, node_id="focal")
    for a, b in [("x", "fc1"), ("fc1", "relu"), ("relu", "fc2"), ("fc2", "focal")]:
        g.connect(a, "out", b, "in")
    if with_scores:
        g.add_node("Scores", {}, node_id="scores")
        g.connect("fc2", "out", "scores", "in")
    return g


def test_a_plugin_loss_is_checked_compiled_and_scored_from_its_declaration(focal_registry):
    g = _focal_graph(focal_registry)
    a = analyze(g)
    assert [p.code for p in a.problems] == []  # a loss: no "no loss" problem; Scores is an output
    model = compile_graph(g, a)
    assert list(model.losses) == ["focal"]  # the plugin output is returned, never trained on
    assert model.output_names == ["focal", "scores"]
    focal = model.outputs[0].loss
    assert (focal.target, focal.weight, focal.metric, focal.ignore_index) == ("label", 2.0, "accuracy", -1)
    assert model.outputs[1].loss is None


def test_without_the_loss_the_plugin_output_alone_cannot_train(focal_registry):
    g = _focal_graph(focal_registry)
    g.remove_node("focal")
    assert "no_loss" in [p.code for p in analyze(g).problems]


def test_a_plugin_focal_loss_trains_to_a_falling_loss(focal_registry, tmp_path):
    torch.set_num_threads(1)
    project = Project(_focal_graph(focal_registry), name="focal")
    project.training.update(epochs=6, batch_size=32, learning_rate=0.02, seed=1, val_split=0.25)
    project.path = tmp_path / "focal.json"
    result = train_project(project, data=_blobs(), run_dir=tmp_path / "run")
    losses = [h["train_loss"] for h in result.history]
    assert len(losses) == 6 and losses[-1] < losses[0] / 2
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert result.history[-1]["metrics"]["accuracy"] > 0.9  # scored on the labelled samples only


def test_a_plugin_input_kind_is_refused_until_a_plugin_declares_it():
    g = Graph(builtin_registry())
    with pytest.raises(BadParameter, match="multichannel"):
        g.add_node("Input", {"kind": "multichannel"})


def _multichannel_graph(reg):
    g = Graph(reg)
    g.add_node("Input", {"kind": "multichannel", "channels": 2, "length": 0, "field": "x"}, node_id="x")
    g.add_node("Conv1d", {"out_channels": 8}, node_id="conv")
    g.add_node("ReLU", {}, node_id="relu")
    g.add_node("AdaptiveAvgPool1d", {}, node_id="pool")
    g.add_node("Flatten", {}, node_id="flat")
    g.add_node("Linear", {"out_features": 2}, node_id="fc")
    g.add_node("CrossEntropyLoss", {"target": "y"}, node_id="loss")
    for a, b in [("x", "conv"), ("conv", "relu"), ("relu", "pool"), ("pool", "flat"), ("flat", "fc"), ("fc", "loss")]:
        g.connect(a, "out", b, "in")
    return g


def test_a_plugin_input_kind_gives_its_shape_fits_data_trains_and_exports(multichannel_registry, tmp_path):
    torch.set_num_threads(1)
    g = _multichannel_graph(multichannel_registry)
    a = analyze(g)
    assert a.ready, a.problems
    assert str(a.nodes["x"].outputs["out"]) == "[B, 2, S]"
    # The data fit check (studio data, the data panel) reads the kind's own parameters.
    assert input_params({"kind": "multichannel", "channels": 2, "length": 64}) == {
        "kind": "multichannel", "channels": 2, "length": 64}

    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (120,), generator=gen)
    x = torch.randn(120, 2, 64, generator=gen) * 0.3 + y[:, None, None].float()
    info = DatasetInfo("pairs", "classification", inputs={"x": {"kind": "multichannel", "channels": 2, "length": 64}})
    data = DataSplit(TensorData({"x": x[30:], "y": y[30:]}), TensorData({"x": x[:30], "y": y[:30]}), info)
    project = Project(g, name="multichannel")
    project.training.update(epochs=3, batch_size=30, learning_rate=0.02, seed=0)
    result = train_project(project, data=data, run_dir=tmp_path / "run")
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]

    from studio.export.common import dynamic_axes
    from studio.export.onnx import export_onnx

    assert dynamic_axes(result.model, g) == {"x": [0, 2]}  # the kind's length axis stays free
    report = export_onnx(g, tmp_path / "m.onnx", module=result.model.eval(), exporter="legacy")
    assert any("length" in c["case"] for c in report.checks)  # checked at a second length too


def test_a_loss_that_returns_a_sum_is_declared_so_and_trains_like_its_mean(tmp_path):
    """``LossRole(reduction="sum")``: the trainer divides by the batch size, so a summed
    cross-entropy trains to exactly the curve of the built-in (mean) one."""
    from dataclasses import replace

    from studio.spec import roles

    registry = builtin_registry()
    mean_spec = registry.get("CrossEntropyLoss")

    def summed(p, ins):
        ctor = mean_spec.build(p, ins)

        class SummedCrossEntropy(ctor.cls):
            def forward(self, scores, labels):
                return super().forward(scores, labels) * scores.shape[0]

        return type(ctor)(SummedCrossEntropy, ctor.kwargs)

    registry.add(replace(mean_spec, id="SummedCrossEntropy", legacy_ids=(), build=summed,
                         loss=replace(mean_spec.loss, reduction="sum")))
    histories = []
    for loss_type in ("CrossEntropyLoss", "SummedCrossEntropy"):
        torch.set_num_threads(1)
        g = Graph(registry)
        g.add_node("Input", {"kind": "vector", "features": 6}, node_id="x")
        g.add_node("Linear", {"out_features": 3}, node_id="fc")
        g.add_node(loss_type, {"target": "y"}, node_id="loss")
        g.connect("x", "out", "fc", "in")
        g.connect("fc", "out", "loss", "in")
        project = Project(g, name=loss_type)
        project.training.update(epochs=3, batch_size=32, learning_rate=0.05, seed=3)
        gen = torch.Generator().manual_seed(0)
        y = torch.randint(0, 3, (200,), generator=gen)
        x = torch.randn(3, 6, generator=gen)[y] * 3 + torch.randn(200, 6, generator=gen)
        data = TensorData({"x": x, "y": y})
        info = DatasetInfo("blobs", "classification", classes=["a", "b", "c"],
                           inputs={"x": {"kind": "vector", "features": 6}})
        split = DataSplit(data.subset(torch.arange(40, 200)), data.subset(torch.arange(40)), info)
        histories.append(train_project(project, data=split, run_dir=tmp_path / loss_type).history)
    for a, b in zip(*histories):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)
    with pytest.raises(TypeError, match="reduction"):
        roles.LossRole(reduction="median")
