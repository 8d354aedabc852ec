"""Contract 1: panels and menus for the other areas, optional panel modules installed
(a failing one reported and skipped), the status bar, the palette, themes."""

from __future__ import annotations

import sys
import types

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel

from studio.resources import template_path


def test_add_panel_and_menu(window):
    label = QLabel("runs")
    dock = window.add_panel(label, "Runs", "bottom")
    assert isinstance(dock, QDockWidget) and dock.widget().widget() is label  # in a scroll area
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    train = window.menu("&Train")
    assert window.menu("Train") is train and window.menu("&Train") is train
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "&Help" and "&Train" in titles
    assert window.menu("&File") is window._menus["&File"]


def test_panel_modules_are_installed_and_a_broken_one_is_skipped(make_window, monkeypatch):
    good = types.ModuleType("studio_test_good_panel")
    good.install = lambda w: w.menu("&Train").addAction("Start training")
    bad = types.ModuleType("studio_test_bad_panel")

    def explode(w):
        raise RuntimeError("no GPU today")
    bad.install = explode
    monkeypatch.setitem(sys.modules, good.__name__, good)
    monkeypatch.setitem(sys.modules, bad.__name__, bad)
    import studio.ui.main_window as mw
    monkeypatch.setattr(mw, "PLUGIN_MODULES", (bad.__name__, "studio.ui.no_such_panel", good.__name__))
    w = make_window(plugins=True)
    assert [a.text() for a in w.menu("&Train").actions()] == ["Start training"]
    assert any("no GPU today" in e for e in w.plugin_errors)
    assert "no GPU today" in w.statusBar().currentMessage()


def test_status_bar_shows_totals_memory_and_readiness(window):
    window.open_path(template_path("cnn_digits"), ask=False)
    a = window.document.analysis()
    assert window.params_label.text() == f"Params: {a.total_params:,}"
    assert window.ready_label.text() == "Ready to train"
    small = window.memory_label.text()
    window.batch_spin.setValue(window.batch_spin.value() * 8)
    assert window.memory_label.text() != small
    window.document.remove_nodes(["loss"])
    assert window.ready_label.text().startswith("Not ready")
    out = window.document.add_node("Output")
    window.document.connect("classifier", "out", out, "in")  # class scores out, no loss: inference
    assert window.ready_label.text() == "Ready for inference"


def test_palette_search_and_double_click_adds(window):
    pal = window.palette_panel
    assert set(pal.items) == set(window.document.graph.registry.ids())
    pal.search.setText("conv")
    shown = pal.visible_ids()
    assert "Conv2d" in shown and "ReLU" not in shown
    pal.search.setText("")
    pal.tree.itemActivated.emit(pal.items["Linear"], 0)
    assert [n.type for n in window.document.graph] == ["Linear"]
    assert window.scene.selected_ids() == [window.document.graph.nodes[0].id]


def test_theme_switch_repaints_with_other_colours(window):
    from studio.ui.canvas.items import Theme

    window.set_theme("light")
    light = Theme.body.name()
    window.set_theme("dark")
    assert Theme.body.name() != light
    from studio.ui import userdata
    assert userdata.get_pref("theme") == "dark"


def test_standard_shortcuts(window):
    from PySide6.QtGui import QKeySequence

    acts = window.actions_by_name
    assert QKeySequence(QKeySequence.StandardKey.Save) in acts["save"].shortcuts()
    assert QKeySequence(QKeySequence.StandardKey.Undo) in acts["undo"].shortcuts()
    assert QKeySequence(QKeySequence.StandardKey.Paste) in acts["paste"].shortcuts()


def test_new_window_and_paste_between_windows(window, qtbot):
    import studio.ui.main_window as mw

    a = window.document.add_node("Linear", params={"out_features": 21})
    window.scene.select_nodes([a])
    window.actions_by_name["copy"].trigger()
    window.actions_by_name["new_window"].trigger()
    other = mw._OPEN_WINDOWS[-1]
    try:
        assert other.isVisible() and other is not window and len(other.document.graph) == 0
        other.actions_by_name["paste"].trigger()
        assert [n.params["out_features"] for n in other.document.graph] == [21]
    finally:
        other.document.undo_stack.setClean()
        other.close()
    qtbot.waitUntil(lambda: other not in mw._OPEN_WINDOWS)
