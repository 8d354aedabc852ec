"""Small graphs the export tests share."""

from __future__ import annotations

import torch


def randomize_stats(module: torch.nn.Module, seed: int = 0) -> None:
    """Give BatchNorm layers non-trivial running statistics, as a trained model has."""
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


def two_branch(graph):
    """Two inputs, a concat and two outputs: names and order must survive an export."""
    graph.add_node("Input", {"kind": "vector", "features": 6}, node_id="a")
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="b")
    graph.add_node("Linear", {"out_features": 5}, node_id="fa")
    graph.add_node("Concat", {"axis": 1}, node_id="cat")
    graph.add_node("Tanh", node_id="act")
    graph.add_node("Linear", {"out_features": 3}, node_id="head")
    graph.add_node("Output", node_id="scores")
    graph.add_node("Output", node_id="features")
    graph.connect("a", "out", "fa", "in")
    graph.connect("fa", "out", "cat", "in1")
    graph.connect("b", "out", "cat", "in2")
    graph.connect("cat", "out", "act", "in")
    graph.connect("act", "out", "head", "in")
    graph.connect("head", "out", "scores", "in")
    graph.connect("act", "out", "features", "in")
    return graph
