"""The document's edit API: refused edits push nothing; compound edits are one step."""

from __future__ import annotations

import pytest

from studio.core.errors import GraphError
from studio.core.graph import Graph
from studio.core.project import Project


@pytest.fixture
def doc(qtbot, registry):
    from studio.ui.document import Document

    return Document(Project(Graph(registry)))


def test_refused_edits_leave_the_stack_alone(doc):
    a = doc.add_node("Input")
    b = doc.add_node("ReLU")
    doc.connect(a, "out", b, "in")
    n = doc.undo_stack.count()
    with pytest.raises(GraphError):
        doc.connect(b, "out", b, "in")
    with pytest.raises(GraphError):
        doc.set_params(b, {"nope": 1})
    with pytest.raises(GraphError):
        doc.add_node("Linear", params={"out_features": 0})
    assert doc.undo_stack.count() == n


def test_parameter_that_removes_a_port_is_undone_with_its_wire(doc):
    x, y = doc.add_node("Input"), doc.add_node("Input")
    z = doc.add_node("Input")
    add = doc.add_node("Add", params={"inputs": 3})
    for src, port in ((x, "in1"), (y, "in2"), (z, "in3")):
        doc.connect(src, "out", add, port)
    before = [str(e) for e in doc.graph.edges]
    doc.set_params(add, {"inputs": 2})
    assert len(doc.graph.edges) == 2
    doc.undo_stack.undo()
    assert sorted(str(e) for e in doc.graph.edges) == sorted(before)


def test_graph_changed_once_per_command_and_analysis_cached(doc, qtbot):
    seen = []
    doc.graphChanged.connect(lambda: seen.append(1))
    a = doc.add_node("Input")
    nodes = [doc.add_node("ReLU") for _ in range(3)]
    seen.clear()
    doc.remove_nodes(nodes + [a])
    assert seen == [1]
    first = doc.analysis()
    assert doc.analysis() is first
    doc.undo_stack.undo()
    assert doc.analysis() is not first and len(doc.analysis().nodes) == 4


def test_layout_and_delete_are_single_steps(doc):
    a, b, c = doc.add_node("Input"), doc.add_node("ReLU"), doc.add_node("ReLU")
    doc.connect(a, "out", b, "in")
    doc.connect(b, "out", c, "in")
    n = doc.undo_stack.count()
    placed = {i: doc.graph.node(i).position for i in (a, b, c)}
    doc.auto_layout("lr")
    assert doc.undo_stack.count() == n + 1
    xs = [doc.graph.node(i).position[0] for i in (a, b, c)]
    assert xs == sorted(xs) and len(set(xs)) == 3
    doc.delete([b], [doc.graph.edges[1]])
    assert doc.undo_stack.count() == n + 2 and b not in doc.graph
    doc.undo_stack.undo()
    assert len(doc.graph.edges) == 2
    doc.undo_stack.undo()
    assert {i: doc.graph.node(i).position for i in (a, b, c)} == placed


def test_fragment_round_trip_renames_clashes(doc):
    a, b = doc.add_node("Input"), doc.add_node("Linear", params={"out_features": 3})
    doc.connect(a, "out", b, "in")
    text = doc.fragment([a, b])
    new = doc.paste(text)
    assert len(new) == 2 and set(new).isdisjoint({a, b})
    assert doc.graph.node(new[1]).params["out_features"] == 3
    assert doc.graph.edge_into(new[1], "in").src == new[0]
    from studio.core.errors import ProjectFileError
    with pytest.raises(ProjectFileError):
        doc.paste("not json")


def test_a_training_setting_is_one_undo_step_and_views_follow_the_signal(doc):
    from studio.ui.commands import SetSetting

    before = doc.project.training["learning_rate"]
    seen = []
    doc.trainingChanged.connect(seen.append)
    doc.undo_stack.push(SetSetting(doc, "learning_rate", 0.5))
    doc.undo_stack.push(SetSetting(doc, "learning_rate", 0.25))  # typing on: merged into one step
    assert doc.project.training["learning_rate"] == 0.25 and doc.modified
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Set learning rate"
    doc.undo_stack.undo()
    assert doc.project.training["learning_rate"] == before and not doc.modified
    assert seen == ["learning_rate"] * 3
