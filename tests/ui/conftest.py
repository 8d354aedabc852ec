"""A window factory that closes every window it made and checks that none leaked."""

from __future__ import annotations

import pytest


@pytest.fixture
def make_window(qtbot):
    from PySide6.QtWidgets import QApplication

    from studio.ui.app import apply_theme
    from studio.ui.main_window import MainWindow

    apply_theme(QApplication.instance(), "dark")
    made: list = []

    def make(project=None, plugins: bool = False, show: bool = True) -> MainWindow:
        window = MainWindow(project, plugins=plugins)
        made.append(window)
        if show:
            window.resize(1280, 800)
            window.show()
            qtbot.waitExposed(window)
        return window

    yield make
    for window in made:
        window.document.undo_stack.setClean()  # teardown must not ask to save
        window.close()
        window.deleteLater()
    # Qt's offscreen clipboard crashes at exit while it still holds data.
    QApplication.clipboard().clear()
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    assert not leaked, f"windows left open: {leaked}"


@pytest.fixture
def waves_window(make_window, tmp_path):
    """A saved LSTM project (waves.json) with one finished run's weights, in a window."""
    import torch

    from studio.core.project import load
    from studio.export.common import build_module
    from studio.export.weights import save_weights
    from studio.resources import template_path

    torch.set_num_threads(1)
    project = load(template_path("lstm_sequence"))
    project.path = tmp_path / "waves.json"
    project.save()
    run = tmp_path / "runs" / "20260101-000000-waves"
    run.mkdir(parents=True)
    save_weights(build_module(project.graph).state_dict(), run / "weights.safetensors")
    return make_window(project, plugins=True), run


@pytest.fixture
def window(make_window):
    return make_window()


class Driver:
    """What a person does with the mouse, expressed as Qt events on the real widgets."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot

    def drop_layer(self, window, type_id: str, view_pos) -> bool:
        from PySide6.QtCore import QPointF, Qt
        from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
        from PySide6.QtWidgets import QApplication

        item = window.palette_panel.items[type_id]
        mime = window.palette_panel.tree.mimeData([item])
        vp = window.view.viewport()
        pos = QPointF(view_pos)
        actions = Qt.DropAction.CopyAction
        enter = QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, enter)
        move = QDragMoveEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, move)
        drop = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, drop)
        return enter.isAccepted() and move.isAccepted() and drop.isAccepted()

    def port_pos(self, window, node_id: str, port: str, output: bool):
        item = window.scene.nodes[node_id].port(port, output)
        return window.view.mapFromScene(item.scenePos())

    def drag(self, window, start, path, button=None):
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        button = button or Qt.MouseButton.LeftButton
        vp = window.view.viewport()
        QTest.mousePress(vp, button, Qt.KeyboardModifier.NoModifier, start)
        for p in path:
            QTest.mouseMove(vp, p)
        QTest.mouseRelease(vp, button, Qt.KeyboardModifier.NoModifier, path[-1] if path else start)

    def wire(self, window, src: str, src_port: str, dst: str, dst_port: str) -> None:
        from PySide6.QtCore import QPoint

        a = self.port_pos(window, src, src_port, True)
        b = self.port_pos(window, dst, dst_port, False)
        mid = QPoint((a.x() + b.x()) // 2, (a.y() + b.y()) // 2 + 7)
        self.drag(window, a, [mid, b])

    def close_modal_later(self, store: list, delay: int = 50) -> None:
        """Close the next modal dialog (remembering its text) from a timer, as a person would."""
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        def close():
            w = QApplication.activeModalWidget()
            if w is None:
                QTimer.singleShot(20, close)
                return
            store.append((w.windowTitle(), getattr(w, "text", lambda: "")()))
            w.close()
        QTimer.singleShot(delay, close)


@pytest.fixture
def drive(qtbot):
    return Driver(qtbot)
