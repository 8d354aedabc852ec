"""The inspector: typed editors from the layer spec, refused values, training options,
multi-selection, renaming."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QSpinBox


def pick(window, *ids):
    window.scene.select_nodes(ids)
    QApplication.processEvents()


def test_editors_follow_the_spec_and_refuse_bad_values(window, qtbot):
    doc = window.document
    drop = doc.add_node("Dropout")
    conv = doc.add_node("Conv2d")
    inp = doc.add_node("Input")
    pick(window, conv)
    ks = window.inspector.editors["kernel_size"].widget
    assert isinstance(ks, QSpinBox)
    ks.setValue(1)
    ks.stepBy(-1)  # the arrows stop at the Param's bounds
    assert ks.value() == 1 and window.inspector.message.text() == ""
    pick(window, inp)
    kind = window.inspector.editors["kind"].widget
    assert isinstance(kind, QComboBox)
    assert [kind.itemText(i) for i in range(kind.count())] == list(doc.graph.spec(inp).param("kind").choices)

    pick(window, drop)
    p = window.inspector.editors["p"].widget

    def type_in(text):
        p.lineEdit().selectAll()
        qtbot.keyClicks(p.lineEdit(), text)
        qtbot.keyClick(p.lineEdit(), Qt.Key.Key_Return)

    steps = doc.undo_stack.count()
    type_in("1.5")
    assert doc.graph.node(drop).params["p"] == 0.5
    assert "1.5" in window.inspector.message.text() and "[0, 0.99]" in window.inspector.message.text()
    assert p.text() == "0.5" and doc.undo_stack.count() == steps
    type_in("abc")  # not a number: nothing is set
    assert doc.graph.node(drop).params["p"] == 0.5 and doc.undo_stack.count() == steps
    type_in("0.25")
    assert doc.graph.node(drop).params["p"] == 0.25 and window.inspector.message.text() == ""
    assert doc.undo_stack.count() == steps + 1
    assert p.text() == "0.25"


def _type_into(qtbot, spin, text):
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def test_out_of_range_and_unreadable_numbers_are_refused_visibly(window, qtbot):
    doc = window.document
    conv = doc.add_node("Conv2d")
    pick(window, conv)
    ks = window.inspector.editors["kernel_size"].widget
    before = doc.graph.node(conv).params["kernel_size"]
    steps = doc.undo_stack.count()
    _type_into(qtbot, ks, "0")  # below the minimum of 1: said, not silently put back
    message = window.inspector.message.text()
    assert "kernel_size" in message and "[1, 1024]" in message
    assert doc.graph.node(conv).params["kernel_size"] == before and ks.value() == before
    assert doc.undo_stack.count() == steps
    _type_into(qtbot, ks, "5000")
    assert "5000" in window.inspector.message.text()
    _type_into(qtbot, ks, "5")
    assert window.inspector.message.text() == "" and doc.graph.node(conv).params["kernel_size"] == 5
    _type_into(qtbot, ks, "abc")  # no number at all: the same kind of message
    assert "abc" in window.inspector.message.text() and doc.graph.node(conv).params["kernel_size"] == 5

    drop = doc.add_node("Dropout")
    pick(window, drop)
    p = window.inspector.editors["p"].widget
    _type_into(qtbot, p, "x1")
    assert "x1" in window.inspector.message.text() and doc.graph.node(drop).params["p"] == 0.5


def test_frozen_and_learning_rate_multiplier(window):
    doc = window.document
    a = doc.add_node("Linear")
    pick(window, a)
    window.inspector.frozen_box.click()
    assert doc.graph.node(a).frozen and window.scene.nodes[a].frozen
    lr = window.inspector.lr_edit
    lr.setText("0.1")
    lr.editingFinished.emit()
    assert doc.graph.node(a).lr_scale == 0.1
    lr.setText("-3")
    lr.editingFinished.emit()
    assert doc.graph.node(a).lr_scale == 0.1 and "[0, 1000]" in window.inspector.message.text()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert not doc.graph.node(a).frozen and doc.graph.node(a).lr_scale == 1.0


def test_multi_selection_edits_every_node_in_one_step(window):
    doc = window.document
    a, b = doc.add_node("Linear"), doc.add_node("Linear")
    doc.set_params(b, {"out_features": 9})
    pick(window, a, b)
    ed = window.inspector.editors["out_features"]
    assert ed.widget.value() == doc.graph.node(window.inspector.ids[0]).params["out_features"]
    steps = doc.undo_stack.count()
    ed.widget.setValue(17)
    assert [doc.graph.node(i).params["out_features"] for i in (a, b)] == [17, 17]
    assert doc.undo_stack.count() == steps + 1
    window.inspector.frozen_box.click()
    assert doc.graph.node(a).frozen and doc.graph.node(b).frozen
    r = doc.add_node("ReLU")
    pick(window, a, r)
    assert window.inspector.editors == {}  # mixed types: only the training options
    assert window.inspector.frozen_box.checkState().name == "PartiallyChecked"


def test_rename_keeps_wires_and_selection(window):
    doc = window.document
    a, b = doc.add_node("Input"), doc.add_node("ReLU")
    doc.connect(a, "out", b, "in")
    pick(window, b)
    window.inspector.name_edit.setText("act")
    window.inspector.name_edit.editingFinished.emit()
    assert "act" in doc.graph and b not in doc.graph
    assert doc.graph.edge_into("act", "in") is not None
    assert window.scene.selected_ids() == ["act"]
    window.inspector.name_edit.setText("1bad name")
    window.inspector.name_edit.editingFinished.emit()
    assert "act" in doc.graph and "must start with a letter" in window.inspector.message.text()


def test_every_registered_layer_gets_its_editors(window):
    """Built-ins and plugins alike: one editor per parameter, showing the node's value."""
    doc = window.document
    for spec in doc.graph.registry:
        node_id = doc.add_node(spec.id)
        pick(window, node_id)
        eds = window.inspector.editors
        assert list(eds) == [p.name for p in spec.params], spec.id
        for p in spec.params:
            w = eds[p.name].widget
            shown = (w.value() if isinstance(w, QSpinBox) else w.currentText() if isinstance(w, QComboBox)
                     else w.isChecked() if p.kind == "bool" else w.text())
            value = doc.graph.node(node_id).params[p.name]
            expected = value if p.kind in ("int", "choice", "bool") else \
                ", ".join(map(str, value)) if p.kind == "ints" else f"{value:g}" if p.kind == "float" else value
            assert shown == expected, (spec.id, p.name)
