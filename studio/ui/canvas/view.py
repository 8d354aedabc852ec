"""The canvas view: zoom on the wheel, pan, fit, drops from the palette and of files,
Tab to search-and-add, and the mouse modes of :mod:`interactions`."""

from __future__ import annotations

import traceback

from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView, QMenu

from studio.core.errors import StudioError
from studio.ui.canvas.interactions import NewLinkInteraction, PanInteraction
from studio.ui.canvas.items import HEADER, NODE_WIDTH, PortItem

LAYER_MIME = "application/x-layer-studio-layer"


def guarded(handler):
    """An exception escaping a Qt event override can abort the process: report instead."""
    def wrapper(self, event, *a):
        try:
            return handler(self, event, *a)
        except Exception as exc:
            traceback.print_exc()
            self.statusMessage.emit(f"error: {exc}")
    wrapper.__name__ = handler.__name__
    return wrapper


class GraphView(QGraphicsView):
    statusMessage = Signal(str)
    filesDropped = Signal(list)  # paths
    searchRequested = Signal(QPointF)  # scene position for the Tab popup

    def __init__(self, scene, parent=None) -> None:
        super().__init__(scene, parent)
        self.document = scene.document
        self.mode = None
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSceneRect(QRectF(-20000, -20000, 40000, 40000))

    def drawBackground(self, painter, rect) -> None:
        from studio.ui.app import current_theme
        painter.fillRect(rect, QColor(current_theme["canvas"]))
        if self.zoom() < 0.35:  # a grid of hair lines at low zoom is noise and costs time
            return
        step = 40
        painter.setPen(QPen(QColor(current_theme["grid"]), 0))
        left, top = int(rect.left()) - int(rect.left()) % step, int(rect.top()) - int(rect.top()) % step
        lines = [QLineF(x, rect.top(), x, rect.bottom()) for x in range(left, int(rect.right()) + 1, step)]
        lines += [QLineF(rect.left(), y, rect.right(), y) for y in range(top, int(rect.bottom()) + 1, step)]
        painter.drawLines(lines)

    # ---- geometry helpers ----------------------------------------------------------
    def port_at(self, scene_pos: QPointF) -> PortItem | None:
        for item in self.scene().items(scene_pos):
            if isinstance(item, PortItem):
                return item
        # Forgive a near miss: ports are small.
        r = 8.0 / max(self.transform().m11(), 0.1)
        for item in self.scene().items(QRectF(scene_pos.x() - r, scene_pos.y() - r, 2 * r, 2 * r)):
            if isinstance(item, PortItem):
                return item
        return None

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        new = min(4.0, max(0.05, self.zoom() * factor))
        f = new / self.zoom()
        self.scale(f, f)

    def fit_all(self) -> None:
        rect = self.scene().itemsBoundingRect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.1:  # a tiny graph should not fill the screen with huge nodes
            self.zoom_by(1.1 / self.zoom())
        # The whole graph, however small: below a readable size the canvas draws nodes
        # as blocks without text (level of detail in the items), not 7-pixel letters.
        self.centerOn(rect.center())

    def center_scene_pos(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    # ---- mouse ---------------------------------------------------------------------
    @guarded
    def mousePressEvent(self, event) -> None:
        pos = event.position().toPoint()
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.AltModifier):
            self.mode = PanInteraction(self, event.position())
            return
        if event.button() == Qt.MouseButton.LeftButton:
            port = self.port_at(self.mapToScene(pos))
            if port is not None:
                wire = None if port.is_output else self.document.graph.edge_into(port.node_id, port.name)
                if wire is not None and wire in self.scene().edges:
                    # Grabbing a connected input picks its wire up by the loose end.
                    src = self.scene().edges[wire].src
                    self.mode = NewLinkInteraction(self, src, detaching=wire)
                else:
                    self.mode = NewLinkInteraction(self, port)
                return
        super().mousePressEvent(event)

    @guarded
    def mouseMoveEvent(self, event) -> None:
        if isinstance(self.mode, NewLinkInteraction):
            self.mode.move(self.mapToScene(event.position().toPoint()))
            return
        if isinstance(self.mode, PanInteraction):
            self.mode.move_view(event.position())
            return
        super().mouseMoveEvent(event)

    @guarded
    def mouseReleaseEvent(self, event) -> None:
        mode, self.mode = self.mode, None
        if isinstance(mode, NewLinkInteraction):
            mode.release(self.mapToScene(event.position().toPoint()))
            return
        if isinstance(mode, PanInteraction):
            mode.cancel()
            return
        super().mouseReleaseEvent(event)

    @guarded
    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(1.0015 ** delta)

    @guarded
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.mode is not None:
            self.mode.cancel()
            self.mode = None
            return
        super().keyPressEvent(event)

    def event(self, event) -> bool:
        # Tab would move focus before keyPressEvent sees it.
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab and not event.modifiers():
            try:
                cursor = self.mapFromGlobal(self.cursor().pos())
                if not self.viewport().rect().contains(cursor):
                    cursor = self.viewport().rect().center()
                self.searchRequested.emit(self.mapToScene(cursor))
            except Exception:
                traceback.print_exc()
            return True
        return super().event(event)

    def build_context_menu(self, scene_pos: QPointF) -> QMenu:
        """The right-click menu: the window's selection actions, after selecting what was
        clicked (as file managers do)."""
        item = self.itemAt(self.mapFromScene(scene_pos))
        while item is not None and item.parentItem() is not None:
            item = item.parentItem()
        if item is not None and item.flags() & item.GraphicsItemFlag.ItemIsSelectable and not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        menu = QMenu(self)
        wanted = ("Cu&t", "&Copy", "&Paste", "D&uplicate", "&Delete", "&Freeze / unfreeze")
        acts = {a.text(): a for a in self.actions()}
        for text in wanted:
            if text in acts:
                acts[text].setEnabled(text == "&Paste" or bool(self.scene().selectedItems()))
                menu.addAction(acts[text])
        return menu

    @guarded
    def contextMenuEvent(self, event) -> None:
        menu = self.build_context_menu(self.mapToScene(event.pos()))
        menu.exec(event.globalPos())
        for a in self.actions():
            a.setEnabled(True)

    # ---- drops ---------------------------------------------------------------------
    def _accepts(self, mime) -> bool:
        return mime.hasFormat(LAYER_MIME) or any(u.isLocalFile() for u in mime.urls())

    @guarded
    def dragEnterEvent(self, event) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    @guarded
    def dragMoveEvent(self, event) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    @guarded
    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        if mime.hasFormat(LAYER_MIME):
            type_id = bytes(mime.data(LAYER_MIME)).decode()
            pos = self.mapToScene(event.position().toPoint())
            try:
                # The cursor lands on the node's title bar, where the person aimed.
                node_id = self.document.add_node(type_id, (pos.x() - NODE_WIDTH / 2, pos.y() - HEADER / 2))
            except StudioError as exc:
                self.statusMessage.emit(str(exc))
                event.ignore()
                return
            self.scene().select_nodes([node_id])
            event.acceptProposedAction()
            self.setFocus()
        elif mime.urls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            event.ignore()
