"""The worked plugin example: a squeeze-and-excitation block."""

from __future__ import annotations

import torch

from studio.compile import compile_graph
from studio.core.analysis import analyze


def _graph(graph, channels=8):
    graph.add_node("Input", {"kind": "image", "channels": channels, "height": 5, "width": 5}, node_id="x")
    graph.add_node("SqueezeExcite", {"reduction": 4}, node_id="se")
    graph.add_node("Output", node_id="y")
    graph.connect("x", "out", "se", "in")
    graph.connect("se", "out", "y", "in")
    return graph


def test_plugin_is_registered_like_a_builtin(registry):
    spec = registry.get("SqueezeExcite")
    assert spec.category == "Attention" and spec.source.endswith("plugins/squeeze_excite.py")


def test_shapes_params_and_behaviour(graph):
    a = analyze(_graph(graph))
    assert str(a.nodes["se"].outputs["out"]) == "[B, 8, 5, 5]"
    model = compile_graph(graph, a)
    assert a.nodes["se"].params == sum(p.numel() for p in model.parameters()) == 8 * 2 + 2 + 2 * 8 + 8
    x = torch.randn(3, 8, 5, 5)
    y = model(x)
    gate = y / x
    # one gate per sample and channel, in (0, 1), the same at every pixel
    assert torch.allclose(gate, gate[:, :, :1, :1].expand_as(gate), atol=1e-5)
    assert ((gate > 0) & (gate < 1)).all()


def test_reduction_larger_than_channels_is_a_shape_error(graph):
    _graph(graph, channels=2)
    a = analyze(graph)
    assert "reduction 4 is larger than the 2 channels" in a.nodes["se"].error
