"""The graph model's edit rules and the events a view mirrors."""

from __future__ import annotations

import pytest

from studio.core.errors import (
    BadParameter,
    CycleError,
    DuplicateNode,
    GraphError,
    IncompatiblePorts,
    InputAlreadyConnected,
    PortError,
    UnknownLayerType,
    UnknownNode,
)


def _recorder(graph):
    log = []
    s = graph.signals
    s.node_added.connect(lambda n: log.append(("node_added", n.id)))
    s.node_removed.connect(lambda n: log.append(("node_removed", n.id)))
    s.node_changed.connect(lambda n, what: log.append(("node_changed", n.id, what)))
    s.node_moved.connect(lambda n: log.append(("node_moved", n.id)))
    s.edge_added.connect(lambda e: log.append(("edge_added", str(e))))
    s.edge_removed.connect(lambda e: log.append(("edge_removed", str(e))))
    return log


def test_add_connect_remove_emit_in_order(graph):
    log = _recorder(graph)
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    graph.add_node("Linear", {"out_features": 3}, node_id="fc")
    graph.connect("x", "out", "fc", "in")
    graph.move_node("fc", (10, 20))
    graph.set_params("fc", {"out_features": 5})
    graph.remove_node("x")
    assert log == [
        ("node_added", "x"), ("node_added", "fc"), ("edge_added", "x.out -> fc.in"),
        ("node_moved", "fc"), ("node_changed", "fc", "params"),
        ("edge_removed", "x.out -> fc.in"), ("node_removed", "x"),
    ]
    assert graph.edges == []
    assert graph.node("fc").params["out_features"] == 5
    assert graph.node("fc").position == (10.0, 20.0)


def test_unknown_type_suggests_close_names(graph):
    with pytest.raises(UnknownLayerType, match="Conv2d"):
        graph.add_node("Conv2e")


def test_legacy_alias_resolves_to_current_id(graph):
    node = graph.add_node("Dense", {"out_features": 8})
    assert node.type == "Linear"


@pytest.mark.parametrize("params, fragment", [
    ({"out_features": 0}, r"in \[1, 1e\+06\]"),
    ({"out_features": 2.5}, "integer"),
    ({"out_features": "64"}, "integer"),
    ({"bias": 1}, "true or false"),
    ({"units": 3}, "has no parameter 'units'"),
])
def test_bad_parameter_names_the_allowed_range(graph, params, fragment):
    with pytest.raises(BadParameter, match=fragment):
        graph.add_node("Linear", params)
    assert len(graph) == 0


def test_bad_parameter_change_leaves_node_unchanged(graph):
    graph.add_node("Conv2d", {"out_channels": 8}, node_id="c")
    with pytest.raises(BadParameter, match="kernel_size"):
        graph.set_params("c", {"out_channels": 16, "kernel_size": -1})
    assert graph.node("c").params["out_channels"] == 8


def test_choice_parameter(graph):
    with pytest.raises(BadParameter, match="one of image, sequence"):
        graph.add_node("Input", {"kind": "video"})


def test_duplicate_and_invalid_names(graph):
    graph.add_node("ReLU", node_id="a")
    with pytest.raises(DuplicateNode):
        graph.add_node("ReLU", node_id="a")
    with pytest.raises(GraphError, match="must start with a letter"):
        graph.add_node("ReLU", node_id="1bad name")
    with pytest.raises(UnknownNode):
        graph.remove_node("nope")


def test_new_ids_are_unique_and_readable(graph):
    ids = [graph.add_node("Conv2d").id for _ in range(3)]
    assert ids == ["conv2d_1", "conv2d_2", "conv2d_3"]


def test_input_already_connected(graph):
    graph.add_node("ReLU", node_id="a")
    graph.add_node("ReLU", node_id="b")
    graph.add_node("ReLU", node_id="c")
    graph.connect("a", "out", "c", "in")
    with pytest.raises(InputAlreadyConnected):
        graph.connect("b", "out", "c", "in")
    assert not graph.can_connect("b", "out", "c", "in")
    # one output may feed many inputs
    graph.connect("a", "out", "b", "in")


def test_cycles_are_refused_with_the_path(graph):
    for n in "abc":
        graph.add_node("ReLU", node_id=n)
    graph.connect("a", "out", "b", "in")
    graph.connect("b", "out", "c", "in")
    with pytest.raises(CycleError) as err:
        graph.connect("c", "out", "a", "in")
    assert err.value.path == ["a", "b", "c", "a"]
    with pytest.raises(CycleError):
        graph.connect("a", "out", "a", "in")


def test_ports_must_exist_and_go_output_to_input(graph):
    graph.add_node("ReLU", node_id="a")
    graph.add_node("ReLU", node_id="b")
    with pytest.raises(PortError, match="no output 'seq'"):
        graph.connect("a", "seq", "b", "in")
    with pytest.raises(PortError, match="is an input"):
        graph.connect("a", "in", "b", "in")
    with pytest.raises(PortError, match="is an output"):
        graph.connect("a", "out", "b", "out")


def test_recurrent_state_only_wires_to_state_inputs(graph):
    graph.add_node("LSTM", node_id="enc")
    graph.add_node("LSTM", node_id="dec")
    graph.add_node("Linear", node_id="fc")
    with pytest.raises(IncompatiblePorts, match="state"):
        graph.connect("enc", "h", "fc", "in")
    with pytest.raises(IncompatiblePorts):
        graph.connect("enc", "seq", "dec", "h0")
    graph.connect("enc", "h", "dec", "h0")
    graph.connect("enc", "c", "dec", "c0")


def test_merge_ports_follow_the_inputs_parameter(graph):
    graph.add_node("Add", {"inputs": 3}, node_id="add")
    for n in "abc":
        graph.add_node("ReLU", node_id=n)
    for i, n in enumerate("abc", 1):
        graph.connect(n, "out", "add", f"in{i}")
    graph.set_params("add", {"inputs": 2})
    assert sorted(e.dst_port for e in graph.edges) == ["in1", "in2"]
    assert [p.name for p in graph.input_ports("add")] == ["in1", "in2"]


def test_topological_order_and_subgraph(graph):
    for n in "abcd":
        graph.add_node("ReLU", node_id=n)
    graph.connect("c", "out", "a", "in")
    graph.connect("a", "out", "b", "in")
    order, cyclic = graph.topological_order()
    assert order.index("c") < order.index("a") < order.index("b")
    assert cyclic == []
    nodes, edges = graph.subgraph(["a", "b"])
    assert [n.id for n in nodes] == ["a", "b"] and [str(e) for e in edges] == ["a.out -> b.in"]


def test_rename_keeps_wires(graph):
    graph.add_node("ReLU", node_id="a")
    graph.add_node("ReLU", node_id="b")
    graph.connect("a", "out", "b", "in")
    graph.rename_node("a", "first")
    assert [str(e) for e in graph.edges] == ["first.out -> b.in"]


def test_training_flags(graph):
    graph.add_node("Linear", node_id="fc")
    graph.set_training("fc", frozen=True, lr_scale=0.1)
    assert graph.node("fc").frozen and graph.node("fc").lr_scale == 0.1
    with pytest.raises(GraphError):
        graph.set_training("fc", lr_scale=-1)


def test_reserved_names_cover_torch_module_attributes(graph):
    import torch.nn as nn

    from studio.core.graph import RESERVED_NAMES

    public = {n for n in dir(nn.ModuleDict()) if not n.startswith("_")}
    assert public <= RESERVED_NAMES
    for name in ("forward", "training", "class", "_private"):
        with pytest.raises(GraphError):
            graph.add_node("ReLU", node_id=name)


class _CountedEnd:
    """Stands for ``Edge.src`` / ``Edge.dst`` and counts every read: any walk over wires,
    however the graph stores them, reads their ends."""

    reads = 0

    def __init__(self, name):
        self.name = name

    def __get__(self, edge, owner=None):
        if edge is None:
            return self
        _CountedEnd.reads += 1
        return edge.__dict__[self.name]

    def __set__(self, edge, value):
        edge.__dict__[self.name] = value


def test_wiring_loading_and_analysing_a_long_chain_is_linear_work(graph, monkeypatch, tmp_path):
    from studio.core.analysis import analyze
    from studio.core.graph import Edge
    from studio.core.project import Project, load

    monkeypatch.setattr(Edge, "src", _CountedEnd("src"), raising=False)
    monkeypatch.setattr(Edge, "dst", _CountedEnd("dst"), raising=False)
    n = 20_000
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    prev = "x"
    _CountedEnd.reads = 0
    for i in range(n):
        graph.add_node("ReLU", node_id=f"r{i}")
        graph.connect(prev, "out", f"r{i}", "in")  # each wire is checked for a cycle
        prev = f"r{i}"
    graph.add_node("Output", node_id="y")
    graph.connect(prev, "out", "y", "in")
    # Rebuilding the adjacency of every wire for each new one reads n * n ends (4e8).
    assert _CountedEnd.reads <= 10 * n
    _CountedEnd.reads = 0
    a = analyze(graph)
    assert len(a.order) == n + 2 and a.nodes["y"].inputs["in"].dims == ("B", 4)
    assert _CountedEnd.reads <= 20 * n
    path = Project(graph).save(tmp_path / "chain.json")
    _CountedEnd.reads = 0
    loaded = load(path).graph  # what `studio check` does before analysing
    assert len(loaded.edges) == n + 1
    assert _CountedEnd.reads <= 10 * n


def test_closing_a_long_loop_names_the_cycle_in_order(graph):
    for i in range(500):
        graph.add_node("ReLU", node_id=f"r{i}")
        if i:
            graph.connect(f"r{i - 1}", "out", f"r{i}", "in")
    with pytest.raises(CycleError) as err:
        graph.connect("r499", "out", "r0", "in")
    assert err.value.path == [f"r{i}" for i in range(500)] + ["r0"]
    assert "this wire would make a cycle: r0 -> r1 -> " in str(err.value)
    assert len(graph.edges) == 499


def test_wires_stay_in_the_order_they_were_made_through_edits(graph):
    for n in "abcd":
        graph.add_node("ReLU", node_id=n)
    graph.add_node("Add", node_id="s")
    e1 = graph.connect("a", "out", "b", "in")
    e2 = graph.connect("b", "out", "s", "in1")
    e3 = graph.connect("c", "out", "s", "in2")
    e4 = graph.connect("s", "out", "d", "in")
    graph.disconnect(e2)
    e5 = graph.connect("b", "out", "s", "in1")
    assert graph.edges == [e1, e3, e4, e5]
    assert graph.edges_of("s") == [e3, e4, e5]
    assert graph.successors("b") == {"s"}
    node, removed = graph.remove_node("s")
    assert removed == [e3, e4, e5] and graph.edges == [e1]
    assert graph.edges_of("d") == [] and graph.edges_in("b") == [e1]


def test_new_names_take_the_smallest_free_number(graph):
    ids = [graph.add_node("ReLU").id for _ in range(3)]
    assert ids == ["relu_1", "relu_2", "relu_3"]
    graph.remove_node("relu_2")
    assert graph.add_node("ReLU").id == "relu_2"
    assert graph.add_node("ReLU").id == "relu_4"
    graph.rename_node("relu_1", "first")
    assert graph.add_node("ReLU").id == "relu_1"
    assert graph.copy().new_id("ReLU") == "relu_5"
