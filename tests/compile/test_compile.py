"""The compiled module agrees with shape inference, node by node and port by port."""

from __future__ import annotations

import random

import pytest
import torch

from studio.compile import CompileError, compile_graph
from studio.core.analysis import analyze
from studio.core.graph import Graph
from studio.core.project import load
from studio.resources import template_names, template_path

torch.set_num_threads(1)


def _concrete(shape, batch, symbols):
    return tuple(d if isinstance(d, int) else (batch if d == "B" else symbols.get(d)) for d in shape.dims)


def assert_shapes_match(graph: Graph, batch: int = 3, symbols=None):
    """Run the compiled module and compare every node output with the inferred shape."""
    symbols = {"T": 7, "S": 400, **(symbols or {})}
    a = analyze(graph)
    assert a.ready, [str(p) for p in a.errors]
    model = compile_graph(graph, a).eval()
    seen = {}
    for node_id, module in model.layers.items():
        module.register_forward_hook(lambda m, i, o, node_id=node_id: seen.__setitem__(node_id, o))
    inputs = model.example_inputs(batch, symbols)
    with torch.no_grad():
        model(*inputs)
    for node_id in model.layers:
        ports = [p.name for p in graph.output_ports(node_id)]
        outs = seen[node_id] if len(ports) > 1 else (seen[node_id],)
        for port, tensor in zip(ports, outs):
            expected = a.nodes[node_id].outputs[port]
            got = tuple(tensor.shape)
            want = _concrete(expected, batch, symbols)
            # derived symbols (T') are not checked numerically, only the known axes
            assert len(got) == len(want), (node_id, port, got, want)
            for g, w in zip(got, want):
                assert w is None or g == w, f"{node_id}.{port}: compiled {got}, inferred {expected}"
    return model


@pytest.mark.parametrize("name", template_names())
def test_templates_compile_to_the_inferred_shapes(name, registry):
    graph = load(template_path(name), registry).graph
    assert_shapes_match(graph)


def test_parameter_counts_equal_the_built_modules(registry):
    """The analytic parameter count of every layer equals its torch module's."""
    cases = {
        "Linear": ("vector", {"out_features": 7}),
        "Conv1d": ("signal", {"out_channels": 6, "groups": 2}),
        "Conv2d": ("image", {"out_channels": 6, "kernel_size": 5, "padding": 2}),
        "ConvTranspose2d": ("image", {"out_channels": 3}),
        "BatchNorm1d": ("vector", {}),
        "BatchNorm2d": ("image", {}),
        "LayerNorm": ("sequence", {}),
        "LSTM": ("sequence", {"hidden_size": 5, "num_layers": 2, "bidirectional": True}),
        "GRU": ("sequence", {"hidden_size": 5, "num_layers": 3}),
        "MultiheadAttention": ("sequence", {"num_heads": 2}),
        "Embedding": ("tokens", {"num_embeddings": 11, "embedding_dim": 3}),
        "SqueezeExcite": ("image", {"reduction": 2}),
    }
    inputs = {
        "vector": {"kind": "vector", "features": 6},
        "signal": {"kind": "image", "channels": 4, "height": 1, "width": 12},
        "image": {"kind": "image", "channels": 4, "height": 6, "width": 6},
        "sequence": {"kind": "sequence", "length": 5, "features": 6},
        "tokens": {"kind": "tokens", "length": 5},
    }
    for layer, (kind, params) in cases.items():
        g = Graph(registry)
        g.add_node("Input", inputs[kind], node_id="x")
        src = "x"
        if kind == "signal":
            g.add_node("Reshape", {"shape": [4, 12]}, node_id="r")
            g.connect("x", "out", "r", "in")
            src = "r"
        g.add_node(layer, params, node_id="n")
        g.connect(src, "out", "n", "in")
        a = analyze(g)
        assert a.nodes["n"].error is None, (layer, a.nodes["n"].error)
        module = g.spec("n").build(g.node("n").params, a.nodes["n"].inputs).create()
        assert a.nodes["n"].params == sum(p.numel() for p in module.parameters()), layer


def _random_image_graph(rng: random.Random, registry) -> Graph:
    g = Graph(registry)
    c, h, w = rng.choice([1, 3]), rng.randint(8, 20), rng.randint(8, 20)
    g.add_node("Input", {"kind": "image", "channels": c, "height": h, "width": w}, node_id="x")
    cur = "x"
    for step in range(rng.randint(2, 7)):
        op = rng.choice(["conv", "conv", "pool", "bn", "act", "res", "cat", "se", "tconv"])
        a = analyze(g)
        shape = a.nodes[cur].outputs["out"]
        ch, hh, ww = shape.dims[1], shape.dims[2], shape.dims[3]
        nid = f"n{step}"
        if op == "conv":
            k = rng.choice([1, 3, 5])
            s = rng.choice([1, 1, 2])
            if min(hh, ww) + 2 * (k // 2) < k:
                continue
            g.add_node("Conv2d", {"out_channels": rng.randint(2, 9), "kernel_size": k, "stride": s,
                                  "padding": k // 2}, node_id=nid)
            g.connect(cur, "out", nid, "in")
        elif op == "tconv":
            g.add_node("ConvTranspose2d", {"out_channels": rng.randint(2, 6)}, node_id=nid)
            g.connect(cur, "out", nid, "in")
        elif op == "pool":
            if min(hh, ww) < 4:
                continue
            g.add_node(rng.choice(["MaxPool2d", "AvgPool2d"]), {"kernel_size": 2}, node_id=nid)
            g.connect(cur, "out", nid, "in")
        elif op == "bn":
            g.add_node("BatchNorm2d", node_id=nid)
            g.connect(cur, "out", nid, "in")
        elif op == "act":
            g.add_node(rng.choice(["ReLU", "GELU", "Tanh", "LeakyReLU", "Sigmoid"]), node_id=nid)
            g.connect(cur, "out", nid, "in")
        elif op == "se":
            g.add_node("SqueezeExcite", {"reduction": 1}, node_id=nid)
            g.connect(cur, "out", nid, "in")
        elif op in ("res", "cat"):
            g.add_node("Conv2d", {"out_channels": ch if op == "res" else rng.randint(2, 5)}, node_id=nid + "b")
            g.connect(cur, "out", nid + "b", "in")
            g.add_node("Add" if op == "res" else "Concat", node_id=nid)
            g.connect(cur, "out", nid, "in1")
            g.connect(nid + "b", "out", nid, "in2")
        cur = nid
    head = rng.choice(["flatten", "gap"])
    if head == "gap":
        g.add_node("AdaptiveAvgPool2d", node_id="gap")
        g.connect(cur, "out", "gap", "in")
        cur = "gap"
    g.add_node("Flatten", node_id="flat")
    g.connect(cur, "out", "flat", "in")
    g.add_node("Linear", {"out_features": rng.randint(2, 10)}, node_id="fc")
    g.connect("flat", "out", "fc", "in")
    g.add_node("CrossEntropyLoss", node_id="loss")
    g.connect("fc", "out", "loss", "in")
    return g


def _random_sequence_graph(rng: random.Random, registry) -> Graph:
    g = Graph(registry)
    if rng.random() < 0.5:
        g.add_node("Input", {"kind": "tokens", "length": rng.choice([0, 9])}, node_id="x")
        g.add_node("Embedding", {"num_embeddings": 20, "embedding_dim": 8}, node_id="emb")
        g.connect("x", "out", "emb", "in")
        cur = "emb"
    else:
        g.add_node("Input", {"kind": "sequence", "length": rng.choice([0, 9]), "features": 8}, node_id="x")
        cur = "x"
    for step in range(rng.randint(1, 4)):
        nid = f"n{step}"
        op = rng.choice(["lstm", "gru", "attn", "ln", "linear"])
        if op in ("lstm", "gru"):
            g.add_node(op.upper(), {"hidden_size": 4, "bidirectional": rng.random() < 0.5,
                                    "num_layers": rng.randint(1, 2)}, node_id=nid)
            g.connect(cur, "out" if cur in ("x", "emb") or g.node(cur).type not in ("LSTM", "GRU") else "seq",
                      nid, "in")
        elif op == "attn":
            a = analyze(g)
            port = "seq" if g.node(cur).type in ("LSTM", "GRU") else "out"
            e = a.nodes[cur].outputs[port].dims[-1]
            g.add_node("MultiheadAttention", {"num_heads": 2 if e % 2 == 0 else 1}, node_id=nid)
            g.connect(cur, port, nid, "in")
        else:
            g.add_node("LayerNorm" if op == "ln" else "Linear", node_id=nid)
            g.connect(cur, "seq" if g.node(cur).type in ("LSTM", "GRU") else "out", nid, "in")
        cur = nid
    if g.node(cur).type in ("LSTM", "GRU"):
        g.add_node("Linear", {"out_features": 3}, node_id="fc")
        g.connect(cur, "last", "fc", "in")
        g.add_node("Output", node_id="state_out")
        g.add_node("Flatten", node_id="hflat")
        g.add_node("Permute", {"order": [2, 1]}, node_id="hperm")
        g.connect(cur, "seq", "hperm", "in")
        g.connect("hperm", "out", "state_out", "in")
    else:
        g.add_node("Linear", {"out_features": 3}, node_id="fc")
        g.connect(cur, "out", "fc", "in")
    g.add_node("CrossEntropyLoss", node_id="loss")
    g.connect("fc", "out", "loss", "in")
    if "hflat" in g:
        g.remove_node("hflat")
    return g


@pytest.mark.parametrize("seed", range(25))
def test_random_image_graphs(seed, registry):
    assert_shapes_match(_random_image_graph(random.Random(seed), registry))


@pytest.mark.parametrize("seed", range(25))
def test_random_sequence_graphs(seed, registry):
    assert_shapes_match(_random_sequence_graph(random.Random(1000 + seed), registry), symbols={"T": 6})


def test_multi_input_multi_output_graph(registry):
    g = Graph(registry)
    g.add_node("Input", {"kind": "vector", "features": 4}, node_id="a")
    g.add_node("Input", {"kind": "vector", "features": 6}, node_id="b", )
    g.add_node("Concat", {"axis": -1}, node_id="cat")
    g.add_node("Linear", {"out_features": 2}, node_id="cls")
    g.add_node("Linear", {"out_features": 1}, node_id="reg")
    g.add_node("CrossEntropyLoss", node_id="ce")
    g.add_node("MSELoss", {"target": "z"}, node_id="mse")
    g.connect("a", "out", "cat", "in1")
    g.connect("b", "out", "cat", "in2")
    g.connect("cat", "out", "cls", "in")
    g.connect("cat", "out", "reg", "in")
    g.connect("cls", "out", "ce", "in")
    g.connect("reg", "out", "mse", "in")
    model = assert_shapes_match(g)
    assert model.input_names == ["a", "b"]
    assert model.output_names == ["ce", "mse"]
    out = model(torch.randn(5, 4), torch.randn(5, 6))
    assert [tuple(o.shape) for o in out] == [(5, 2), (5, 1)]
    assert set(model.losses) == {"ce", "mse"}


def test_seq2seq_state_wiring_runs(registry):
    g = Graph(registry)
    g.add_node("Input", {"kind": "tokens", "field": "src"}, node_id="src")
    g.add_node("Input", {"kind": "tokens", "field": "tgt_in"}, node_id="tgt")
    g.add_node("Embedding", {"num_embeddings": 12, "embedding_dim": 8}, node_id="e1")
    g.add_node("Embedding", {"num_embeddings": 12, "embedding_dim": 8}, node_id="e2")
    g.add_node("LSTM", {"hidden_size": 16}, node_id="enc")
    g.add_node("LSTM", {"hidden_size": 16}, node_id="dec")
    g.add_node("Linear", {"out_features": 12}, node_id="proj")
    g.add_node("CrossEntropyLoss", {"target": "tgt_out"}, node_id="loss")
    for a, b in (("src", "e1"), ("tgt", "e2"), ("e1", "enc"), ("e2", "dec")):
        g.connect(a, "out", b, "in")
    g.connect("enc", "h", "dec", "h0")
    g.connect("enc", "c", "dec", "c0")
    g.connect("dec", "seq", "proj", "in")
    g.connect("proj", "out", "loss", "in")
    model = assert_shapes_match(g, symbols={"T": 5})
    assert model.input_fields == ["src", "tgt_in"]
    src = torch.randint(0, 12, (2, 7))
    out_a = model(src, torch.randint(0, 12, (2, 4)))
    out_b = model(src.flip(1), torch.randint(0, 12, (2, 4)))
    assert out_a.shape == (2, 4, 12)
    assert not torch.allclose(out_a, out_b)  # the decoder really sees the encoder's state


def test_graph_with_problems_does_not_compile(registry):
    g = Graph(registry)
    g.add_node("Input", {"kind": "vector"}, node_id="x")
    g.add_node("Linear", node_id="fc")
    g.add_node("Output", node_id="y")
    g.connect("fc", "out", "y", "in")
    with pytest.raises(CompileError, match="fc: input in is not connected"):
        compile_graph(g)


def test_half_built_branch_is_a_warning_and_left_out(registry):
    g = Graph(registry)
    g.add_node("Input", {"kind": "vector", "features": 3}, node_id="x")
    g.add_node("Linear", {"out_features": 2}, node_id="fc")
    g.add_node("CrossEntropyLoss", node_id="loss")
    g.connect("x", "out", "fc", "in")
    g.connect("fc", "out", "loss", "in")
    g.add_node("Add", node_id="draft")  # dropped on the canvas, not wired yet
    g.connect("fc", "out", "draft", "in1")
    a = analyze(g)
    assert a.ready
    assert {(p.code, p.severity) for p in a.problems_of("draft")} == {("unconnected_input", "warning"),
                                                                      ("dead_end", "warning")}
    model = compile_graph(g, a)
    assert list(model.layers) == ["fc"]
