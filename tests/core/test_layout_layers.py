"""Auto-layout's layers: longest path from the inputs; a cycle from a file shares one."""

from __future__ import annotations

from studio.core.layout import TOP_TO_BOTTOM, layered_positions


def test_each_node_sits_one_layer_after_its_latest_input(graph):
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    for n in ("a", "b", "c"):
        graph.add_node("ReLU", node_id=n)
    graph.add_node("Add", node_id="s")
    graph.connect("x", "out", "a", "in")
    graph.connect("a", "out", "b", "in")
    graph.connect("b", "out", "c", "in")
    graph.connect("c", "out", "s", "in1")
    graph.connect("a", "out", "s", "in2")  # a short way round does not pull s forward
    pos = layered_positions(graph, aspect=None)
    columns = {n: round(pos[n][0] / 300.0) for n in pos}
    assert columns == {"x": 0, "a": 1, "b": 2, "c": 3, "s": 4}
    down = layered_positions(graph, TOP_TO_BOTTOM, aspect=None)
    assert [round(down[n][1] / 170.0) for n in "xabcs"] == [0, 1, 2, 3, 4]


def test_a_cycle_read_from_a_file_is_laid_out_in_one_layer(graph):
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    graph.add_node("Add", node_id="a")
    graph.add_node("ReLU", node_id="b")
    graph.add_node("ReLU", node_id="after")
    graph.connect("x", "out", "a", "in1")
    graph.connect("a", "out", "b", "in")
    graph.connect("b", "out", "a", "in2", allow_cycle=True)
    graph.connect("b", "out", "after", "in")
    pos = layered_positions(graph, aspect=None)
    assert pos["a"][0] == pos["b"][0] > pos["x"][0]
    assert pos["after"][0] > pos["b"][0]
    assert pos["a"] != pos["b"]
