"""New from a template, recent files, dropped files, asking before losing changes,
autosave and recovery after a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from studio.resources import template_path
from studio.ui import userdata


def test_new_from_template_and_empty(window):
    window.choose_template = lambda: "cnn_digits"
    assert window.new_project()
    assert "image" in window.scene.nodes and window.document.path is None
    assert window.ready_label.text() == "Ready to train"
    assert window.document.project.name in window.windowTitle()
    window.choose_template = lambda: ""
    assert window.new_project()
    assert len(window.document.graph) == 0 and not window.scene.nodes
    window.choose_template = lambda: None  # cancelled: nothing changes
    window.document.add_node("ReLU")
    window.ask_save_changes = lambda: "discard"
    assert not window.new_project()
    assert len(window.document.graph) == 1


def test_close_with_unsaved_changes_asks(window, tmp_path):
    window.document.add_node("ReLU")
    assert window.isWindowModified()
    asked = []
    window.ask_save_changes = lambda: asked.append(1) or "cancel"
    assert not window.close()
    assert asked and window.isVisible()
    target = tmp_path / "kept.json"
    window.ask_save_changes = lambda: "save"
    window.ask_save_path = lambda: str(target)
    assert window.close()
    assert json.loads(target.read_text())["nodes"][0]["type"] == "ReLU"


def test_recent_files_and_drop_a_file_on_the_window(window, tmp_path):
    path = tmp_path / "copy.json"
    path.write_text(template_path("cnn_digits").read_text())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(300, 300), *args)
    QApplication.sendEvent(window.view.viewport(), enter)
    drop = QDropEvent(QPointF(300, 300), *args)
    QApplication.sendEvent(window.view.viewport(), drop)
    assert enter.isAccepted() and drop.isAccepted()
    assert window.document.path == path and "conv1" in window.scene.nodes
    assert userdata.recent_files()[0] == str(path.resolve())
    assert [a.text() for a in window.recent_menu.actions()] == [str(path.resolve())]


def test_autosave_then_recovery_after_a_crash(make_window, tmp_path):
    w1 = make_window()
    w1.document.add_node("Linear", params={"out_features": 7})
    w1.autosave()
    saved = w1.autosave_path()
    entry = json.loads(saved.read_text())
    assert entry["project"]["nodes"][0]["params"]["out_features"] == 7
    # Pretend the process that wrote it died: give it the pid of a finished process.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    entry["pid"] = int(dead.stdout)
    saved.write_text(json.dumps(entry))
    w1.session_id = "other"  # this window must not delete the "crashed" file on close

    w2 = make_window()
    offered = []
    w2.ask_recover = lambda entries: offered.append(entries) or True
    assert w2.offer_recovery()
    assert offered and [n.type for n in w2.document.graph] == ["Linear"]
    assert w2.document.graph.nodes[0].params["out_features"] == 7
    assert w2.isWindowModified()  # recovered work still needs saving
    assert not saved.exists()
    assert not w2.offer_recovery()  # offered once


def test_saving_clears_modified_and_autosave(window, tmp_path):
    window.document.add_node("ReLU")
    window.autosave()
    assert window.autosave_path().exists()
    assert window._save_to(tmp_path / "a.json")
    assert not window.isWindowModified() and not window.autosave_path().exists()
    assert "a.json" in window.windowTitle()


def test_unwritable_save_target_gives_a_dialog(window, drive, tmp_path):
    window.document.add_node("ReLU")
    folder = tmp_path / "dir.json"
    folder.mkdir()
    seen: list = []
    drive.close_modal_later(seen)
    assert not window._save_to(folder)
    assert seen and seen[0][0] == "Cannot save project" and "dir.json" in seen[0][1]
    assert window.isWindowModified()


@pytest.mark.parametrize("given", [True, False], ids=["studio FILE", "studio"])
def test_studio_opens_the_file_or_the_example(tmp_path, given):
    """`studio FILE` starts the window on FILE, `studio` on the built-in example that
    Save never overwrites (checked in a separate process)."""
    path = tmp_path / "p.json"
    path.write_text(template_path("lstm_sequence").read_text())
    # The timer keeps ticking: a quit() sent before the event loop starts is ignored.
    code = ("import sys; from PySide6.QtCore import QTimer; from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "done = []\n"
            "def tick():\n"
            "    ws = [w for w in app.topLevelWidgets() if w.objectName() == 'MainWindow' and w.isVisible()]\n"
            "    if ws and len(ws[0].document.graph) and not done:\n"
            "        print(ws[0].document.path, len(ws[0].document.graph)); ws[0].document.undo_stack.setClean()\n"
            "        done.append(1)\n"
            "    if done: app.quit()\n"
            "t = QTimer(); t.timeout.connect(tick); t.start(50)\n"
            "import studio.ui.main_window as mw; mw.PLUGIN_MODULES = ()  # the editor alone\n"
            "from studio.ui.app import run_app; sys.exit(run_app(sys.argv[1:]))\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    args = [str(path)] if given else []
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    shown_path, count = out.stdout.split()
    if given:
        assert shown_path == str(path) and int(count) > 3
    else:
        from studio.core.project import load
        from studio.resources import DEFAULT_EXAMPLE
        assert shown_path == "None" and int(count) == len(load(template_path(DEFAULT_EXAMPLE)).graph)


def test_the_editor_does_not_import_torch():
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
            "from studio.ui.main_window import MainWindow; from studio.resources import template_path\n"
            "w = MainWindow(plugins=False); w.show(); w.open_path(template_path('cnn_digits'), ask=False)\n"
            "app.processEvents(); print('torch' in sys.modules)\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "False"


def test_template_chooser_shows_each_template_whole_with_a_drawing_of_its_graph(qtbot):
    import json

    from studio.resources import template_names, template_path
    from studio.ui.files import TemplateChooser

    dialog = TemplateChooser()
    qtbot.addWidget(dialog)
    seen = set()
    for row in range(dialog.list.count()):
        dialog.list.setCurrentRow(row)
        name = dialog.chosen()
        seen.add(name)
        if not name:
            continue
        doc = json.loads(template_path(name).read_text(encoding="utf-8"))
        assert dialog.description.text() == doc["description"]  # the whole text, not cut off
        assert dialog.title.text() == doc["name"]
        assert dialog.preview.renderer().isValid()
        svg = dialog.preview_svg(name)
        assert all(f">{node['id']}<" in svg for node in doc["nodes"])
    assert seen == {"", *template_names()}


def _drop_file(window, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), QDragEnterEvent(QPoint(300, 300), *args))
    QApplication.sendEvent(window.view.viewport(), QDropEvent(QPointF(300, 300), *args))


def _recent(window, path):
    from studio.ui import userdata

    userdata.add_recent(path)
    window.refresh_recent_menu()
    next(a for a in window.recent_menu.actions() if a.text() == str(path)).trigger()


ENTRY_POINTS = {
    "new": lambda window, path: window.actions_by_name["new"].trigger(),
    "open": lambda window, path: window.actions_by_name["open"].trigger(),
    "recent": _recent,
    "import_onnx": lambda window, path: window.import_onnx_action.trigger(),
    "dropped_file": _drop_file,
    "start_from_weights": lambda window, path: window.start_from_weights_action.trigger(),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_every_action_that_replaces_the_document_asks_about_unsaved_changes_first(make_window, tmp_path, monkeypatch,
                                                                                   entry):
    from PySide6.QtWidgets import QFileDialog

    from studio.ui import model_import, start_weights

    window = make_window()
    model_import.install(window)
    start_weights.install(window)

    path = tmp_path / "other.json"
    path.write_text(template_path("cnn_digits").read_text())
    window.document.add_node("ReLU")
    events = []
    window.ask_save_changes = lambda: events.append("asked") or "cancel"
    window.choose_template = lambda: events.append("dialog") or ""
    window.ask_open_path = lambda: events.append("dialog") or str(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: events.append("dialog") or (str(path), "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: events.append("dialog") or ("", "")))
    ENTRY_POINTS[entry](window, path)
    assert events == ["asked"]  # before any file dialog; Cancel keeps the work
    assert [n.type for n in window.document.graph] == ["ReLU"] and window.document.modified
