"""The canvas: moving by mouse is one undo step, rubber-band selection, zoom and fit,
Tab search-to-add, problems drawn red, frozen nodes, deleting a wire."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.core.layout import layered_positions
from studio.resources import template_path


def test_dragging_a_node_is_one_move_on_release(window, drive):
    doc = window.document
    drive.drop_layer(window, "ReLU", QPoint(400, 300))
    node = doc.graph.nodes[0]
    start = node.position
    n = doc.undo_stack.count()
    item = window.scene.nodes[node.id]
    grip = window.view.mapFromScene(item.scenePos() + QPointF(60, 10))
    drive.drag(window, grip, [grip + QPoint(10 * i, 5 * i) for i in range(1, 8)])
    assert doc.undo_stack.count() == n + 1
    assert doc.undo_stack.undoText() == "Move"
    moved = doc.graph.node(node.id).position
    assert moved[0] > start[0] + 40 and moved[1] > start[1] + 20
    doc.undo_stack.undo()
    assert doc.graph.node(node.id).position == start
    assert (item.pos().x(), item.pos().y()) == start


def test_rubber_band_selects_the_nodes_inside(window, drive):
    for x in (300, 600):
        drive.drop_layer(window, "ReLU", QPoint(x, 300))
    drive.drop_layer(window, "ReLU", QPoint(450, 650))
    window.scene.clearSelection()
    drive.drag(window, QPoint(150, 220), [QPoint(500, 300), QPoint(800, 400)])
    picked = window.scene.selected_ids()
    assert len(picked) == 2
    assert window.inspector.ids == picked


def test_wheel_zooms_and_fit_shows_everything(window):
    window.open_path(template_path("cnn_digits"), ask=False)
    view = window.view
    before = view.zoom()
    vp = view.viewport()
    ev = QWheelEvent(QPointF(300, 300), QPointF(vp.mapToGlobal(QPoint(300, 300))), QPoint(0, 0), QPoint(0, 240),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)
    assert view.zoom() > before * 1.2
    view.fit_all()
    assert _visible(view).contains(window.scene.itemsBoundingRect())
    visible = _visible(view)
    outside = [n for n, item in window.scene.nodes.items() if not visible.contains(item.sceneBoundingRect())]
    assert outside == [], f"not on screen after fit: {outside}"


def _visible(view):
    return view.mapToScene(view.viewport().rect()).boundingRect()


def test_fit_shows_a_big_graph_whole_and_drops_text_it_could_not_read(window):
    from PySide6.QtGui import QPainter, QPixmap

    from studio.ui.canvas.items import shows_text

    window.open_path(template_path("seq2seq_dates"), ask=False)
    view = window.view
    view.fit_all()
    assert _visible(view).contains(window.scene.itemsBoundingRect())  # whole, not a corner of it
    pix = QPixmap(10, 10)
    painter = QPainter(pix)
    painter.scale(view.zoom(), view.zoom())
    assert shows_text(painter) == (view.zoom() >= 0.65)
    painter.resetTransform()
    painter.scale(0.4, 0.4)
    assert not shows_text(painter)  # blocks, not 5-pixel letters
    painter.resetTransform()
    assert shows_text(painter)
    painter.end()


def test_fit_does_not_blow_up_a_single_node(window, drive):
    drive.drop_layer(window, "ReLU", QPoint(400, 300))
    view = window.view
    view.fit_all()
    (item,) = window.scene.nodes.values()
    assert view.zoom() <= 1.1 + 1e-9
    assert _visible(view).contains(item.sceneBoundingRect())


def test_tab_opens_search_and_enter_adds_the_layer(window, qtbot):
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    popup = window.search_popup
    assert popup.isVisible()
    QTest.keyClicks(popup.edit, "batchnorm 2d")
    assert popup.list.count() >= 1
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert [n.type for n in window.document.graph] == ["BatchNorm2d"]
    assert window.scene.selected_ids() == [window.document.graph.nodes[0].id]


def test_problems_are_red_with_the_message_and_clicking_selects(window):
    doc = window.document
    inp = doc.add_node("Input", params={"kind": "vector", "features": 8})
    conv = doc.add_node("Conv2d")
    doc.connect(inp, "out", conv, "in")
    item = window.scene.nodes[conv]
    problem = doc.analysis().problems_of(conv)[0]
    assert item.severity == "error" and problem.message in item.toolTip()
    wire = next(iter(window.scene.edges.values()))
    assert wire.problem and wire.label == "[B, 8]"
    row = next(i for i in range(window.problems.topLevelItemCount())
               if window.problems.topLevelItem(i).text(1) == conv)
    window.problems.itemClicked.emit(window.problems.topLevelItem(row), 0)
    assert window.scene.selected_ids() == [conv]
    assert window.ready_label.text().startswith("Not ready")
    doc.set_params(inp, {"kind": "image"})
    assert window.scene.nodes[conv].severity != "error" and not wire.problem


def test_frozen_node_is_drawn_differently(window):
    doc = window.document
    a = doc.add_node("Linear")
    item = window.scene.nodes[a]
    window.view.centerOn(item)

    def picture():
        item.update()
        QApplication.processEvents()
        rect = window.view.mapFromScene(item.sceneBoundingRect()).boundingRect()
        return window.view.viewport().grab(rect).toImage()

    plain = picture()
    doc.set_training([a], frozen=True)
    assert item.frozen
    frozen = picture()
    assert frozen.size() == plain.size() and frozen != plain
    doc.undo_stack.undo()
    assert picture() == plain


def test_selected_wire_is_deleted_with_the_delete_key(window):
    doc = window.document
    a, b = doc.add_node("Input"), doc.add_node("ReLU", position=(300, 0))
    doc.connect(a, "out", b, "in")
    window.scene.clearSelection()
    next(iter(window.scene.edges.values())).setSelected(True)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert doc.graph.edges == [] and a in doc.graph and b in doc.graph
    doc.undo_stack.undo()
    assert len(doc.graph.edges) == 1


def test_auto_layout_matches_the_layered_layout_and_undoes_at_once(window):
    window.open_path(template_path("cnn_digits"), ask=False)
    doc = window.document
    before = {n.id: n.position for n in doc.graph}
    window.actions_by_name["layout_tb"].trigger()
    want = layered_positions(doc.graph, "tb", aspect=window.view_aspect())
    assert {n.id: n.position for n in doc.graph} == want
    item = window.scene.nodes["conv1"]
    assert (item.pos().x(), item.pos().y()) == want["conv1"]
    doc.undo_stack.undo()
    assert {n.id: n.position for n in doc.graph} == before


def test_top_to_bottom_layout_puts_ports_on_top_and_bottom(window):
    window.open_path(template_path("cnn_digits"), ask=False)
    item = window.scene.nodes["conv1"]
    assert item.port("in", False).pos().x() == 0.0  # left to right as stored
    window.actions_by_name["layout_tb"].trigger()
    assert window.scene.vertical
    port_in, port_out = item.port("in", False), item.port("out", True)
    assert port_in.pos().y() == 0.0 and port_out.pos().y() > port_in.pos().y()
    wire = window.scene.edges[window.document.graph.edge_into("conv1", "in")]
    assert wire.path().pointAtPercent(1.0) == port_in.scenePos()
    window.document.undo_stack.undo()
    assert not window.scene.vertical and item.port("in", False).pos().x() == 0.0


def test_a_parameter_that_adds_ports_keeps_existing_wires_attached(window):
    doc = window.document
    a, b = doc.add_node("Input"), doc.add_node("Add", position=(400, 0))
    doc.connect(a, "out", b, "in1")
    doc.set_params(b, {"inputs": 4})
    wire = next(iter(window.scene.edges.values()))
    assert wire.dst is window.scene.nodes[b].port("in1", False)
    assert wire.path().pointAtPercent(1.0) == wire.dst.scenePos()


def test_right_click_menu_acts_on_the_clicked_node(window):
    doc = window.document
    a, b = doc.add_node("Linear"), doc.add_node("ReLU", position=(400, 0))
    window.view.centerOn(window.scene.nodes[a])
    window.scene.select_nodes([b])
    menu = window.view.build_context_menu(window.scene.nodes[a].scenePos() + QPointF(50, 40))
    assert window.scene.selected_ids() == [a]
    texts = [act.text() for act in menu.actions()]
    assert "&Delete" in texts and "&Freeze / unfreeze" in texts
    next(act for act in menu.actions() if act.text() == "&Freeze / unfreeze").trigger()
    assert doc.graph.node(a).frozen and not doc.graph.node(b).frozen
    next(act for act in menu.actions() if act.text() == "&Delete").trigger()
    assert a not in doc.graph
    menu.deleteLater()


def test_ctrl_click_adds_to_the_selection_and_middle_drag_pans(window):
    doc = window.document
    a, b = doc.add_node("ReLU", position=(0, 0)), doc.add_node("ReLU", position=(300, 0))
    window.view.resetTransform()
    window.view.centerOn(240, 30)
    vp = window.view.viewport()

    def at(node_id):
        return window.view.mapFromScene(window.scene.nodes[node_id].scenePos() + QPointF(60, 40))

    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(a))
    assert window.scene.selected_ids() == [a]
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, at(b))
    assert sorted(window.scene.selected_ids()) == sorted([a, b])
    assert doc.undo_stack.count() == 2  # clicks move nothing

    before = window.view.mapToScene(vp.rect().center())
    start = QPoint(400, 300)
    QTest.mousePress(vp, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, QPoint(300, 250))
    QTest.mouseRelease(vp, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 250))
    after = window.view.mapToScene(vp.rect().center())
    assert after.x() > before.x() + 50 and after.y() > before.y() + 20
    assert doc.graph.node(a).position == (0.0, 0.0)


def _residual_row(doc, step):
    """x -> fc -> relu1 -> relu2 -> add, and a skip fc -> add, placed along ``step``."""
    ids = {}
    for i, (name, type_id, params) in enumerate([
            ("x", "Input", {"kind": "vector", "features": 8}), ("fc", "Linear", {"out_features": 8}),
            ("relu1", "ReLU", {}), ("relu2", "ReLU", {}), ("add", "Add", {})]):
        ids[name] = doc.add_node(type_id, (step[0] * i, step[1] * i), params)
    for a, b in [("x", "fc"), ("fc", "relu1"), ("relu1", "relu2")]:
        doc.connect(ids[a], "out", ids[b], "in")
    doc.connect(ids["relu2"], "out", ids["add"], "in1")
    skip = doc.connect(ids["fc"], "out", ids["add"], "in2")
    return ids, skip


def _crosses(path, rect) -> bool:
    return any(rect.contains(path.pointAtPercent(i / 200)) for i in range(1, 200))


def test_a_skip_wire_bends_around_the_nodes_it_would_pass_behind(window):
    doc, scene = window.document, window.scene
    ids, skip = _residual_row(doc, (260, 0))
    wire = scene.edges[skip]
    middle = [scene.nodes[ids[n]].sceneBoundingRect() for n in ("relu1", "relu2")]
    assert not any(_crosses(wire.path(), r) for r in middle)
    assert wire.path().pointAtPercent(0) == wire.src.scene_center()
    assert wire.path().pointAtPercent(1) == wire.dst.scene_center()
    label = wire.label_item.rect
    assert label.isValid() and not any(label.intersects(r) for r in middle)

    # Move the middle nodes out of the way: the wire runs straight again.
    doc.move_nodes({ids[n]: (doc.graph.node(ids[n]).position, (doc.graph.node(ids[n]).position[0], 300.0))
                    for n in ("relu1", "relu2")})
    assert wire.path().boundingRect().height() < 30  # fc and add sit level: no swing out
    doc.undo_stack.undo()
    assert not any(_crosses(wire.path(), scene.nodes[ids[n]].sceneBoundingRect()) for n in ("relu1", "relu2"))


def test_a_skip_wire_bends_around_nodes_in_a_top_to_bottom_layout(window):
    doc, scene = window.document, window.scene
    ids, skip = _residual_row(doc, (260, 0))
    window.actions_by_name["layout_tb"].trigger()
    assert scene.vertical
    wire = scene.edges[skip]
    x = [doc.graph.node(ids[n]).position[0] for n in ("fc", "relu1", "relu2", "add")]
    assert len(set(x)) == 1  # one column: the plain wire would run behind relu1 and relu2
    assert not any(_crosses(wire.path(), scene.nodes[ids[n]].sceneBoundingRect()) for n in ("relu1", "relu2"))


def test_shape_labels_never_sit_on_each_other(window, tmp_path):
    from studio.core.graph import Graph
    from studio.core.project import Project

    g = Graph(window.document.graph.registry)
    g.add_node("Input", {"kind": "image", "channels": 1, "height": 8, "width": 8}, node_id="image")
    g.add_node("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, node_id="stem")
    g.connect("image", "out", "stem", "in")
    prev = "stem"
    for i in (1, 2):  # two residual blocks: skips and folded rows make crowded middles
        chain = [f"conv{i}a", f"bn{i}", f"relu{i}", f"conv{i}b"]
        for node_id, type_id in zip(chain, ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d"]):
            params = {"out_channels": 16, "kernel_size": 3, "padding": 1} if type_id == "Conv2d" else {}
            g.add_node(type_id, params, node_id=node_id)
        g.add_node("Add", {}, node_id=f"add{i}")
        for a, b in zip([prev] + chain, chain):
            g.connect(a, "out", b, "in")
        g.connect(chain[-1], "out", f"add{i}", "in1")
        g.connect(prev, "out", f"add{i}", "in2")
        prev = f"add{i}"
    Project(g, name="residual").save(tmp_path / "residual.json")
    window.open_path(tmp_path / "residual.json", ask=False)
    for direction in ("layout_tb", "layout_lr"):
        window.actions_by_name[direction].trigger()
        rects = [w.label_item.rect for w in window.scene.edges.values()]
        assert all(r.isValid() for r in rects)
        overlapping = [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:] if a.intersects(b)]
        assert not overlapping, direction


@pytest.mark.parametrize("direction", ["lr", "tb"])
def test_auto_layout_leaves_no_node_drawn_over_another(window, direction):
    """With the sizes the canvas really draws (a node with many ports is taller)."""
    import itertools

    from studio.resources import template_names

    for name in template_names():
        window.open_path(template_path(name), ask=False)
        window.actions_by_name[f"layout_{direction}"].trigger()
        # The bounding rect has a 2 px margin for the selection outline.
        rects = {n: item.sceneBoundingRect().adjusted(2, 2, -2, -2) for n, item in window.scene.nodes.items()}
        over = [(a, b) for a, b in itertools.combinations(rects, 2) if rects[a].intersects(rects[b])]
        assert over == [], name


def test_a_wire_whose_shapes_do_not_fit_is_red_with_the_reason_while_dragging(window, drive):
    doc = window.document
    inp = doc.add_node("Input", params={"kind": "vector", "features": 256}, position=(0, 0))
    conv = doc.add_node("Conv2d", position=(300, 0))
    lin = doc.add_node("Linear", position=(300, 200))
    window.view.fit_all()
    QApplication.processEvents()
    vp = window.view.viewport()
    a = drive.port_pos(window, inp, "out", True)

    def hover(dst):
        b = drive.port_pos(window, dst, "in", False)
        QTest.mouseMove(vp, QPoint((a.x() + b.x()) // 2, (a.y() + b.y()) // 2 + 7))
        QTest.mouseMove(vp, b)
        return b, window.view.mode

    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    b, mode = hover(conv)
    assert mode.misfit and "[B, 256]" in mode.misfit  # the target's own shape rule, before release
    assert mode.wire.pen().color().name() == "#e0403a"
    assert mode.note.isVisible() and mode.note.text().replace("\n", " ") == mode.misfit
    _, mode = hover(lin)  # a Linear takes [B, 256]: green, no note
    assert not mode.misfit and mode.wire.pen().color().name() == "#3cb371" and not mode.note.isVisible()
    b, mode = hover(conv)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    assert not any(isinstance(i, type(mode.note)) for i in window.scene.items())
    # Connected, red, and an error although this branch reaches no loss yet.
    [p] = [p for p in doc.analysis().problems_of(conv) if p.code == "shape"]
    assert p.severity == "error" and p.message == mode.misfit
    assert window.scene.nodes[conv].severity == "error"
    assert window.ready_label.text().startswith("Not ready")


def test_layer_type_names_are_not_cut_off_in_nodes(window):
    from PySide6.QtGui import QFontMetricsF

    from studio.ui.canvas import items

    doc = window.document
    fm = QFontMetricsF(items._SMALL_FONT)
    width = items.NODE_WIDTH - 16
    for type_id in ("BatchNorm2d", "ConvTranspose2d", "MultiheadAttention", "Conv2d"):
        if type_id not in doc.graph.registry:
            continue
        node = doc.add_node(type_id)
        item = window.scene.nodes[node]
        item.set_state(9250, None, "", False)
        title, params = item.footer_texts(fm, width)
        assert title == doc.graph.spec(doc.graph.node(node)).title  # whole, not "BatchNor..."
        assert params in ("9.25k params", "9.25k", "")  # the count gives way, not the type
    bn = window.scene.nodes[doc.add_node("BatchNorm2d")]
    bn.set_state(64, None, "", False)
    assert bn.footer_texts(fm, width)[1].startswith("64")  # both fit here
