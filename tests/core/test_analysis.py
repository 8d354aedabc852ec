"""Shape inference and the problems list, as a person reads them before training."""

from __future__ import annotations

from studio.core.analysis import analyze
from studio.core.shapes import TensorShape


def _image_net(graph, flatten=True):
    graph.add_node("Input", {"kind": "image", "channels": 1, "height": 28, "width": 28}, node_id="img")
    graph.add_node("Conv2d", {"out_channels": 16, "stride": 2}, node_id="conv")
    graph.add_node("MaxPool2d", node_id="pool")
    graph.add_node("Linear", {"out_features": 10}, node_id="fc")
    graph.add_node("CrossEntropyLoss", node_id="loss")
    graph.connect("img", "out", "conv", "in")
    graph.connect("conv", "out", "pool", "in")
    if flatten:
        graph.add_node("Flatten", node_id="flat")
        graph.connect("pool", "out", "flat", "in")
        graph.connect("flat", "out", "fc", "in")
    else:
        graph.connect("pool", "out", "fc", "in")
    graph.connect("fc", "out", "loss", "in")


def test_every_port_gets_a_shape_with_a_symbolic_batch(graph):
    _image_net(graph)
    a = analyze(graph)
    assert a.ready and a.problems == []
    assert str(a.nodes["conv"].outputs["out"]) == "[B, 16, 14, 14]"
    assert a.nodes["conv"].outputs["out"].describe() == "[B, C=16, H=14, W=14]"
    assert str(a.nodes["flat"].outputs["out"]) == "[B, 784]"
    assert a.nodes["fc"].params == 784 * 10 + 10
    assert a.nodes["conv"].params == 16 * 9 + 16
    assert a.nodes["conv"].flops == 2 * 9 * 16 * 14 * 14
    assert a.total_params == 784 * 10 + 10 + 160
    edge = graph.edge_into("fc", "in")
    assert a.edge_shape(edge) == TensorShape.of("B", 784, axes="BF")


def test_mismatch_says_what_to_insert(graph):
    _image_net(graph, flatten=False)
    a = analyze(graph)
    assert not a.ready
    [p] = a.problems_of("fc")
    assert p.code == "shape"
    assert p.message == "Linear expects [B, F] or [B, T, F], got [B, 16, 7, 7]: insert Flatten"
    # downstream of the failure: no repeated error, shapes unknown
    assert a.problems_of("loss") == [] and a.nodes["loss"].error == "inputs unknown"


def test_more_actionable_messages(graph):
    graph.add_node("Input", {"kind": "sequence", "length": 20, "features": 8}, node_id="seq")
    graph.add_node("Conv1d", node_id="c1")
    graph.add_node("Input", {"kind": "tokens", "length": 5}, node_id="tok")
    graph.add_node("Linear", node_id="fc")
    graph.add_node("Input", {"kind": "vector", "features": 5}, node_id="vec")
    graph.add_node("Embedding", node_id="emb")
    graph.add_node("Input", {"kind": "image", "channels": 3, "height": 4, "width": 4}, node_id="im")
    graph.add_node("MaxPool2d", {"kernel_size": 8}, node_id="big")
    graph.connect("seq", "out", "c1", "in")
    graph.connect("tok", "out", "fc", "in")
    graph.connect("vec", "out", "emb", "in")
    graph.connect("im", "out", "big", "in")
    a = analyze(graph)
    msgs = {p.node: p.message for p in a.problems if p.code == "shape"}
    assert "insert Permute with order [2, 1]" in msgs["c1"]
    assert "insert Embedding first" in msgs["fc"]
    assert "feed it from an Input of kind 'tokens'" in msgs["emb"]
    assert "larger than the input [B, 3, 4, 4]" in msgs["big"]


def test_structure_problems(graph):
    graph.add_node("ReLU", node_id="lonely")
    graph.add_node("Add", node_id="add")
    graph.add_node("ReLU", node_id="r")
    graph.connect("r", "out", "add", "in1")
    a = analyze(graph)
    codes = {(p.code, p.node) for p in a.problems}
    assert ("no_input", None) in codes
    assert ("no_loss", None) in codes
    assert ("not_connected", "lonely") in codes
    assert ("unconnected_input", "add") in codes
    assert ("unconnected_input", "r") in codes
    assert ("dead_end", "add") in codes
    [msg] = [p.message for p in a.problems if p.code == "unconnected_input" and p.node == "add"]
    assert msg == "input in2 is not connected"


def test_merge_shapes(graph):
    graph.add_node("Input", {"kind": "image", "channels": 8, "height": 6, "width": 6}, node_id="x")
    graph.add_node("Conv2d", {"out_channels": 8}, node_id="a")
    graph.add_node("Conv2d", {"out_channels": 4}, node_id="b")
    graph.add_node("Add", node_id="add")
    graph.add_node("Concat", node_id="cat")
    for n in ("a", "b"):
        graph.connect("x", "out", n, "in")
    graph.connect("x", "out", "add", "in1")
    graph.connect("b", "out", "add", "in2")
    graph.connect("a", "out", "cat", "in1")
    graph.connect("b", "out", "cat", "in2")
    a = analyze(graph)
    assert "Add needs equal shapes, got [B, 8, 6, 6] at in1 and [B, 4, 6, 6] at in2" in a.nodes["add"].error
    assert str(a.nodes["cat"].outputs["out"]) == "[B, 12, 6, 6]"


def test_recurrent_outputs_and_state(graph):
    graph.add_node("Input", {"kind": "tokens", "length": 0}, node_id="src")
    graph.add_node("Embedding", {"num_embeddings": 30, "embedding_dim": 16}, node_id="emb")
    graph.add_node("LSTM", {"hidden_size": 32, "num_layers": 2, "bidirectional": True}, node_id="enc")
    graph.connect("src", "out", "emb", "in")
    graph.connect("emb", "out", "enc", "in")
    a = analyze(graph)
    outs = {k: str(v) for k, v in a.nodes["enc"].outputs.items()}
    assert outs == {"seq": "[B, T, 64]", "last": "[B, 64]", "h": "[4, B, 32]", "c": "[4, B, 32]"}


def test_memory_estimate_grows_with_batch(graph):
    _image_net(graph)
    a = analyze(graph)
    assert a.memory_bytes(128) > a.memory_bytes(1) > 4 * a.total_params
    # activations are what scale with the batch
    assert a.memory_bytes(2) - a.memory_bytes(1) == 2 * a.activation_values() * 4


def test_every_layer_frozen_is_a_problem_before_training_with_the_fix(graph):
    _image_net(graph)
    for n in ("conv", "fc"):
        graph.node(n).frozen = True
    a = analyze(graph)
    [p] = [p for p in a.problems if p.code == "nothing_to_train"]
    assert p.severity == "error" and "frozen" in p.message and "unfreeze" in p.message
    assert not a.ready and a.inference_ready  # it still runs and exports
    graph.node("fc").frozen = False
    assert analyze(graph).ready


def test_a_shape_error_on_a_branch_that_reaches_no_loss_is_still_an_error(graph):
    from studio.core.analysis import wire_shape_problem

    _image_net(graph)
    graph.add_node("Input", {"kind": "vector", "features": 256}, node_id="vec")
    graph.add_node("Conv2d", node_id="side")
    a = analyze(graph)
    # Asked before the wire exists: the target's rule on the would-be input.
    reason = wire_shape_problem(graph, a, "vec", "out", "side", "in")
    assert reason and "[B, 256]" in reason
    assert wire_shape_problem(graph, a, "img", "out", "side", "in") is None
    graph.connect("vec", "out", "side", "in")
    a = analyze(graph)
    [p] = [p for p in a.problems_of("side") if p.code == "shape"]
    assert p.severity == "error" and p.message == reason
    assert not a.ready
