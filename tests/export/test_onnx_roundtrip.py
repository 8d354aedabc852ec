"""Models exported by Layer Studio come back with the same nodes and the same outputs."""

from __future__ import annotations

import torch

from studio.core.graph import Graph
from studio.core.project import load
from studio.export.common import build_module
from studio.export.onnx import export_onnx
from studio.export.onnx_import import import_onnx
from studio.resources import template_path


def _language_model(registry) -> Graph:
    g = Graph(registry)
    g.add_node("Input", {"kind": "tokens", "length": 0, "field": "tokens"}, node_id="tokens")
    g.add_node("Embedding", {"num_embeddings": 50, "embedding_dim": 8}, node_id="embed")
    g.add_node("LSTM", {"hidden_size": 12}, node_id="lstm")
    g.add_node("Linear", {"out_features": 50}, node_id="next_token")
    g.add_node("Output", {}, node_id="logits")
    g.connect("tokens", "out", "embed", "in")
    g.connect("embed", "out", "lstm", "in")
    g.connect("lstm", "seq", "next_token", "in")
    g.connect("next_token", "out", "logits", "in")
    return g


def test_a_language_model_whose_embedding_is_a_gather_of_a_weight_comes_back(registry, tmp_path):
    graph = _language_model(registry)
    module = build_module(graph)
    export_onnx(graph, tmp_path / "lm.onnx", module=module)
    result = import_onnx(tmp_path / "lm.onnx", registry)
    back = result.project.graph
    assert [n.type for n in back.nodes] == ["Input", "Embedding", "LSTM", "Linear", "Output"]
    assert [n.id for n in back.nodes] == ["tokens", "embed", "lstm", "next_token", "logits"]
    assert back.node("tokens").params["kind"] == "tokens"
    again = build_module(back, result.state)
    ids = torch.randint(0, 50, (3, 9))
    with torch.no_grad():
        assert torch.allclose(again(ids), module(ids), atol=1e-5)


def test_a_template_comes_back_with_its_layers(registry, tmp_path):
    """The exporter folds BatchNorm into the convolution before it and drops Dropout; every
    other layer comes back, in order, under its own name."""
    project = load(template_path("cnn_digits"), registry)
    export_onnx(project.graph, tmp_path / "c.onnx", module=build_module(project.graph))
    back = import_onnx(tmp_path / "c.onnx", registry).project.graph
    kept = [(n.id, n.type) for n in project.graph.nodes
            if n.type not in ("BatchNorm2d", "Dropout", "CrossEntropyLoss")]
    assert [(n.id, n.type) for n in back.nodes if n.type != "Output"] == kept
