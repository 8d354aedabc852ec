"""A person builds a small graph with the mouse and the inspector, then undoes and redoes
all of it, copies, pastes, deletes, saves, reopens and opens a broken file."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication


def state(window) -> dict:
    d = window.document.project.to_dict()
    d.pop("generator")
    return d


def select(window, *ids):
    window.scene.select_nodes(ids)
    QApplication.processEvents()


def test_build_by_hand_then_undo_and_redo_everything(window, drive, qtbot):
    doc = window.document
    states = [state(window)]

    assert drive.drop_layer(window, "Input", QPoint(250, 300))
    states.append(state(window))
    assert drive.drop_layer(window, "Linear", QPoint(700, 300))
    states.append(state(window))
    assert [n.type for n in doc.graph] == ["Input", "Linear"]
    inp, lin = (n.id for n in doc.graph)

    # The inspector follows the selection; make the input a vector of 8 features.
    select(window, inp)
    kind = window.inspector.editors["kind"].widget
    kind.setCurrentIndex(kind.findText("vector"))
    states.append(state(window))
    features = window.inspector.editors["features"].widget
    features.setValue(8)
    states.append(state(window))
    assert doc.graph.node(inp).params["features"] == 8

    drive.wire(window, inp, "out", lin, "in")
    states.append(state(window))
    assert len(doc.graph.edges) == 1
    edge_item = next(iter(window.scene.edges.values()))
    assert edge_item.label == "[B, 8]"

    # A new input width shows on the wire and in the Linear node's shapes.
    select(window, inp)
    window.inspector.editors["features"].widget.setValue(12)
    states.append(state(window))
    assert edge_item.label == "[B, 12]"
    select(window, lin)
    window.inspector.editors["out_features"].widget.setValue(5)
    states.append(state(window))
    info = window.inspector.info.text()
    assert "in <b>in</b>: [B, F=12]" in info and "out <b>out</b>: [B, F=5]" in info
    assert doc.analysis().nodes[lin].outputs["out"].dims == ("B", 5)
    assert doc.analysis().nodes[lin].params == 12 * 5 + 5

    steps = len(states) - 1
    assert doc.undo_stack.count() == steps
    for i in range(steps, 0, -1):
        doc.undo_stack.undo()
        assert state(window) == states[i - 1], f"undo to step {i - 1}"
    assert len(window.scene.nodes) == 0 and not window.document.modified
    for i in range(1, steps + 1):
        doc.undo_stack.redo()
        assert state(window) == states[i], f"redo to step {i}"
    assert window.scene.edges and next(iter(window.scene.edges.values())).label == "[B, 12]"
    assert window.isWindowModified() and "[*]" in window.windowTitle()


def test_refused_wire_is_red_and_not_made(window, drive):
    from studio.ui.canvas.interactions import REFUSED, NewLinkInteraction

    drive.drop_layer(window, "Input", QPoint(250, 300))
    drive.drop_layer(window, "Linear", QPoint(700, 300))
    inp, lin = (n.id for n in window.document.graph)
    drive.wire(window, inp, "out", lin, "in")
    # A second wire into the same input is refused while it is dragged.
    drive.drop_layer(window, "Input", QPoint(250, 550))
    other = window.document.graph.nodes[-1].id
    from PySide6.QtTest import QTest
    vp = window.view.viewport()
    a, b = drive.port_pos(window, other, "out", True), drive.port_pos(window, lin, "in", False)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(vp, QPoint(a.x() + 30, a.y()))
    QTest.mouseMove(vp, b)
    mode = window.view.mode
    assert isinstance(mode, NewLinkInteraction)
    assert mode.wire.pen().color() == REFUSED and "already connected" in mode.reason
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    assert len(window.document.graph.edges) == 1
    assert "already connected" in window.statusBar().currentMessage()


def _graph_with_chain(window, drive):
    drive.drop_layer(window, "Input", QPoint(200, 300))
    drive.drop_layer(window, "Linear", QPoint(600, 300))
    drive.drop_layer(window, "ReLU", QPoint(1000, 300))
    a, b, c = (n.id for n in window.document.graph)
    drive.wire(window, a, "out", b, "in")
    drive.wire(window, b, "out", c, "in")
    return a, b, c


def test_copy_paste_delete_and_paste_into_another_window(make_window, drive):
    w1 = make_window()
    a, b, c = _graph_with_chain(w1, drive)
    select(w1, b, c)
    w1.actions_by_name["copy"].trigger()
    w1.actions_by_name["paste"].trigger()
    g = w1.document.graph
    assert len(g) == 5
    pasted = w1.scene.selected_ids()
    assert len(pasted) == 2 and not {b, c} & set(pasted)
    # The wire between the copied nodes came along; the one from outside did not.
    assert sum(1 for e in g.edges if e.src in pasted and e.dst in pasted) == 1
    assert all(g.node(p).position != g.node(q).position for p in pasted for q in (b, c))
    new_linear = next(p for p in pasted if g.node(p).type == "Linear")
    assert g.node(new_linear).params == g.node(b).params

    w2 = make_window()
    w2.actions_by_name["paste"].trigger()
    assert sorted(n.type for n in w2.document.graph) == ["Linear", "ReLU"]
    assert len(w2.document.graph.edges) == 1

    select(w1, b)
    w1.view.setFocus()
    w1.actions_by_name["delete"].trigger()
    assert b not in g and len(g.edges) == 1  # both wires of b went with it
    w1.document.undo_stack.undo()
    assert b in g and len(g.edges) == 3

    select(w1, c)
    w1.actions_by_name["cut"].trigger()
    assert c not in g
    w1.actions_by_name["paste"].trigger()
    assert c in g  # the name was free again

    select(w1, a)
    w1.actions_by_name["duplicate"].trigger()
    assert len([n for n in g if n.type == "Input"]) == 2


def test_save_and_reopen_gives_the_same_graph(make_window, drive, tmp_path):
    w1 = make_window()
    a, b, c = _graph_with_chain(w1, drive)
    select(w1, b)
    w1.inspector.editors["out_features"].widget.setValue(33)
    w1.document.set_training([b], frozen=True, lr_scale=0.5)
    path = tmp_path / "mine.json"
    w1.ask_save_path = lambda: str(path)
    w1.actions_by_name["save"].trigger()
    assert path.exists() and not w1.isWindowModified()
    w2 = make_window()
    assert w2.open_path(path)
    d1, d2 = w1.document.project.to_dict(), w2.document.project.to_dict()
    assert d1 == d2
    assert json.loads(path.read_text())["nodes"][1]["frozen"] is True
    assert set(w2.scene.nodes) == {a, b, c} and len(w2.scene.edges) == 2


def test_broken_file_gives_a_dialog_and_the_app_goes_on(window, drive, tmp_path):
    drive.drop_layer(window, "Input", QPoint(200, 300))
    before = state(window)
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": 1, "nodes": [{"id": "x", "type": "Conv2d", "params": {"kernel_size": -3}}]}')
    seen: list = []
    drive.close_modal_later(seen)
    assert not window.open_path(bad, ask=False)
    assert seen and seen[0][0] == "Cannot open project"
    assert "broken.json" in seen[0][1] and "kernel_size" in seen[0][1]
    assert state(window) == before
    drive.drop_layer(window, "ReLU", QPoint(500, 300))
    assert len(window.document.graph) == 2


def test_pick_up_a_wire_by_its_input_and_move_or_drop_it(window, drive):
    doc = window.document
    drive.drop_layer(window, "Input", QPoint(200, 300))
    drive.drop_layer(window, "ReLU", QPoint(600, 250))
    drive.drop_layer(window, "ReLU", QPoint(600, 500))
    a, b, c = (n.id for n in doc.graph)
    drive.wire(window, a, "out", b, "in")
    # Drag the wire's end from b's input to c's input: one undoable step.
    drive.drag(window, drive.port_pos(window, b, "in", False),
               [QPoint(500, 400), drive.port_pos(window, c, "in", False)])
    assert [(e.src, e.dst) for e in doc.graph.edges] == [(a, c)]
    assert doc.undo_stack.undoText() == "Move wire"
    doc.undo_stack.undo()
    assert [(e.src, e.dst) for e in doc.graph.edges] == [(a, b)]
    # Pull it off and drop it on empty canvas: the wire is removed.
    drive.drag(window, drive.port_pos(window, b, "in", False), [QPoint(450, 650), QPoint(420, 700)])
    assert doc.graph.edges == []
    assert all(item.isVisible() for item in window.scene.edges.values())
