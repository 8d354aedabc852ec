"""ONNX export: every template passes the onnxruntime check; failures write nothing."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from export_helpers import randomize_stats, two_branch

from studio.core.project import load
from studio.export.common import build_module, preflight
from studio.export.errors import ExportError
from studio.export.onnx import export_onnx
from studio.resources import template_names, template_path

torch.set_num_threads(1)


def _session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", template_names())
def test_every_template_exports_and_matches_torch(name, registry, tmp_path):
    project = load(template_path(name), registry)
    module = build_module(project.graph)
    randomize_stats(module)
    out = tmp_path / f"{name}.onnx"
    report = export_onnx(project.graph, out, module=module, data=project.data)
    assert out.is_file() and report.size_bytes == out.stat().st_size
    assert report.max_diff <= 1e-4 and len(report.checks) >= 2
    model = onnx.load(str(out))
    assert [i.name for i in model.graph.input] == module.input_names
    assert [o.name for o in model.graph.output] == module.output_names
    # An independent run at a batch size the export never saw.
    xs = module.example_inputs(batch=5)
    got = _session(out).run(None, {n: x.numpy() for n, x in zip(module.input_names, xs)})
    with torch.no_grad():
        ref = module(*xs)
    ref = ref if isinstance(ref, tuple) else (ref,)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r.numpy(), atol=1e-4)


def test_lstm_sequence_length_stays_dynamic(registry, tmp_path):
    project = load(template_path("lstm_sequence"), registry)
    module = build_module(project.graph)
    report = export_onnx(project.graph, tmp_path / "m.onnx", module=module, data=project.data)
    assert report.dynamic_axes["signal"] == [0, 1]
    session = _session(tmp_path / "m.onnx")
    for length in (13, 90):
        x = torch.randn(2, length, 1)
        with torch.no_grad():
            ref = module(x)
        (got,) = session.run(None, {"signal": x.numpy()})
        np.testing.assert_allclose(got, ref.numpy(), atol=1e-5)


def test_dynamo_exporter_also_keeps_the_length_free(registry, tmp_path):
    project = load(template_path("lstm_sequence"), registry)
    report = export_onnx(project.graph, tmp_path / "d.onnx", data=project.data, exporter="dynamo")
    assert report.exporter == "dynamo"
    assert any("length" in c["case"] for c in report.checks)
    assert not list(tmp_path.glob("*.data"))  # one self-contained file


def test_difference_above_tolerance_fails_names_a_node_and_writes_nothing(registry, tmp_path):
    project = load(template_path("cnn_digits"), registry)
    module = build_module(project.graph)
    randomize_stats(module)
    out = tmp_path / "m.onnx"
    with pytest.raises(ExportError) as info:
        export_onnx(project.graph, out, module=module, tolerance=1e-15)
    message = str(info.value)
    assert "differs" in message and "nothing was written" in message
    assert "largest difference is at" in message
    assert any(node.id in message.split("largest difference is at")[1] for node in project.graph)
    assert list(tmp_path.iterdir()) == []


def test_preflight_lists_layers_without_an_onnx_form(registry, graph, tmp_path):
    spec = dataclasses.replace(registry.get("ReLU"), id="FancyOp", legacy_ids=(), onnx_exportable=False,
                               export_notes="uses a custom kernel with no ONNX operator")
    registry.add(spec)
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    graph.add_node("FancyOp", node_id="fancy")
    graph.add_node("Output", node_id="y")
    graph.connect("x", "out", "fancy", "in")
    graph.connect("fancy", "out", "y", "in")
    blockers = preflight(graph)
    assert [b.node for b in blockers] == ["fancy"]
    assert "custom kernel" in blockers[0].message
    with pytest.raises(ExportError, match="fancy"):
        export_onnx(graph, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_unconnected_graph_is_refused_before_tracing(graph, tmp_path):
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    graph.add_node("Linear", {"out_features": 2}, node_id="fc")
    graph.add_node("Output", node_id="y")
    graph.connect("fc", "out", "y", "in")
    with pytest.raises(ExportError, match="fc: input in is not connected"):
        export_onnx(graph, tmp_path / "m.onnx")


def test_opset_is_the_one_asked_for(registry, tmp_path):
    project = load(template_path("cnn_digits"), registry)
    report = export_onnx(project.graph, tmp_path / "m.onnx", opset=13)
    assert report.opset == 13
    assert onnx.load(str(tmp_path / "m.onnx")).opset_import[0].version == 13
    with pytest.raises(ExportError, match="opset 99"):
        export_onnx(project.graph, tmp_path / "n.onnx", opset=99)


def test_two_inputs_two_outputs_keep_their_names(graph, tmp_path):
    two_branch(graph)
    module = build_module(graph)
    report = export_onnx(graph, tmp_path / "m.onnx", module=module)
    assert report.inputs == ["a", "b"] and report.outputs == ["scores", "features"]
    a, b = torch.randn(4, 6), torch.randn(4, 4)
    got = _session(tmp_path / "m.onnx").run(["features", "scores"], {"a": a.numpy(), "b": b.numpy()})
    with torch.no_grad():
        scores, features = module(a, b)
    np.testing.assert_allclose(got[0], features.numpy(), atol=1e-5)
    np.testing.assert_allclose(got[1], scores.numpy(), atol=1e-5)
    assert "random inputs" in report.sample


def test_a_plugin_layer_exports_and_matches(graph, tmp_path):
    graph.add_node("Input", {"kind": "image", "channels": 8, "height": 5, "width": 5}, node_id="x")
    graph.add_node("SqueezeExcite", {"reduction": 2}, node_id="se")
    graph.add_node("Output", node_id="y")
    graph.connect("x", "out", "se", "in")
    graph.connect("se", "out", "y", "in")
    report = export_onnx(graph, tmp_path / "se.onnx")
    assert report.max_diff <= 1e-5
    ops = {n.op_type for n in onnx.load(str(tmp_path / "se.onnx")).graph.node}
    assert {"Sigmoid", "Mul"} <= ops


def test_a_layer_that_traces_wrong_is_named_and_nothing_is_written(registry, graph, tmp_path):
    """A plugin whose forward turns the batch size into a Python number is traced as a
    constant: the check at a second batch size catches it and names the node."""
    from studio.layers.spec import Ctor, LayerSpec

    class BatchScale(torch.nn.Module):
        def forward(self, x):
            return x * float(int(x.shape[0]))

    registry.add(LayerSpec(id="BatchScale", title="Batch scale", category="Test", doc="x times the batch size",
                           infer=lambda p, ins: {"out": ins["in"]}, build=lambda p, ins: Ctor(BatchScale)))
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    graph.add_node("Linear", {"out_features": 4}, node_id="fc")
    graph.add_node("BatchScale", node_id="scale")
    graph.add_node("Tanh", node_id="act")
    graph.add_node("Output", node_id="y")
    for a, b in (("x", "fc"), ("fc", "scale"), ("scale", "act"), ("act", "y")):
        graph.connect(a, "out", b, "in")
    with pytest.raises(ExportError) as info:
        export_onnx(graph, tmp_path / "m.onnx")
    message = str(info.value)
    assert "on batch" in message and "the first node that differs is scale" in message
    assert list(tmp_path.iterdir()) == []


def test_the_default_exporter_writes_an_older_opset_that_dynamo_cannot(registry, tmp_path):
    """Why `auto` starts with the legacy exporter: asked for opset 13 (older runtimes), it
    writes 13, while torch's dynamo exporter fails to convert down and writes 18 anyway."""
    project = load(template_path("cnn_digits"), registry)
    report = export_onnx(project.graph, tmp_path / "auto.onnx", opset=13)
    assert report.exporter == "legacy"
    assert onnx.load(str(tmp_path / "auto.onnx")).opset_import[0].version == 13
    export_onnx(project.graph, tmp_path / "dynamo.onnx", opset=13, exporter="dynamo")
    assert onnx.load(str(tmp_path / "dynamo.onnx")).opset_import[0].version == 18
