"""Mouse modes of the canvas as objects: the view hands events to the active one."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from studio.core.analysis import wire_shape_problem
from studio.core.errors import GraphError
from studio.ui.canvas.items import PortItem
from studio.ui.canvas.routing import wire_path

ALLOWED = QColor("#3cb371")
REFUSED = QColor("#e0403a")
NEUTRAL = QColor("#9aa0a8")


class CursorNote(QGraphicsSimpleTextItem):
    """A line of text beside the cursor, the same size at any zoom."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(50)
        self.setBrush(REFUSED)
        font = QFont()
        font.setBold(True)
        self.setFont(font)

    def paint(self, painter, option, widget=None) -> None:
        painter.fillRect(self.boundingRect().adjusted(-4, -2, 4, 2), QColor(20, 20, 24, 225))
        super().paint(painter, option, widget)

    def show_at(self, text: str, scene_pos: QPointF, view) -> None:
        """Beside ``scene_pos``, kept inside what ``view`` shows (moved to the left of the
        cursor, or up, near an edge); a long reason is broken after its colons and semicolons."""
        self.setText(text.replace("; ", ";\n").replace(": ", ":\n"))
        self.setVisible(bool(text))
        if not text:
            return
        zoom = max(view.zoom(), 1e-3)
        box = self.boundingRect()
        w, h = (box.width() + 8) / zoom, (box.height() + 4) / zoom
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        x, y = scene_pos.x() + 14 / zoom, scene_pos.y() + 10 / zoom
        if x + w > seen.right():
            x = max(seen.left() + 4 / zoom, min(scene_pos.x() - 14 / zoom - w, seen.right() - w))
        if y + h > seen.bottom():
            y = max(seen.top(), scene_pos.y() - 10 / zoom - h)
        self.setPos(x, y)


class NewLinkInteraction:
    """Drag from a port; the loose wire turns green over a port it may join, red over one
    it may not or where the shapes would not fit, with the reason beside the cursor.
    Release on an allowed port connects (a wire whose shapes do not fit connects too, red
    with its problem, so the graph can be fixed upstream next)."""

    def __init__(self, view, start: PortItem, detaching=None) -> None:
        """``detaching``: the wire picked up from an input, re-routed or removed on release."""
        self.view = view
        self.start = start
        self.detaching = detaching
        if detaching is not None:
            view.scene().edges[detaching].show_with_label(False)
        self.wire = QGraphicsPathItem()
        self.wire.setZValue(5)
        self.wire.setPen(QPen(NEUTRAL, 2, Qt.PenStyle.DashLine))
        view.scene().addItem(self.wire)
        self.note = CursorNote()
        self.note.setVisible(False)
        view.scene().addItem(self.note)
        self.target: PortItem | None = None
        self.allowed = False
        self.reason = ""
        self.misfit = ""  # the would-be input's shape rule says no
        self._draw(start.scene_center())

    def _endpoints(self, other: PortItem):
        """(src, src_port, dst, dst_port) for a wire between the start and ``other``."""
        a, b = self.start, other
        if a.is_output == b.is_output:
            return None
        if not a.is_output:
            a, b = b, a
        return a.node_id, a.name, b.node_id, b.name

    def move(self, scene_pos: QPointF) -> None:
        port = self.view.port_at(scene_pos)
        self.target, self.allowed, self.reason, self.misfit = port, False, "", ""
        colour = NEUTRAL
        if port is not None and port is not self.start:
            ends = self._endpoints(port)
            if ends is None:
                self.reason = "wires go from an output to an input"
            elif self.detaching is not None and ends == _ends(self.detaching):
                self.allowed = True  # dropped back where it was
            else:
                doc = self.view.document
                try:
                    doc.graph.check_connect(*ends)
                    self.allowed = True
                except GraphError as exc:
                    self.reason = str(exc)
                if self.allowed:
                    self.misfit = wire_shape_problem(doc.graph, doc.analysis(), *ends) or ""
            colour = ALLOWED if self.allowed and not self.misfit else REFUSED
            self.view.statusMessage.emit(self.reason or self.misfit or
                                         f"connect {ends[0]}.{ends[1]} to {ends[2]}.{ends[3]}")
        self.note.show_at(self.reason or self.misfit, scene_pos, self.view)
        self.wire.setPen(QPen(colour, 2.4 if port else 2, Qt.PenStyle.SolidLine if port else Qt.PenStyle.DashLine))
        self._draw(port.scene_center() if port is not None else scene_pos)

    def _draw(self, end: QPointF) -> None:
        a = self.start.scene_center()
        a, b = (a, end) if self.start.is_output else (end, a)
        self.wire.setPath(wire_path(a, b, self.start.node_item.vertical))

    def release(self, scene_pos: QPointF) -> None:
        self.move(scene_pos)
        self.cancel()
        doc = self.view.document
        old = self.detaching
        try:
            if self.target is not None and self.allowed:
                ends = self._endpoints(self.target)
                if old is None:
                    doc.connect(*ends)
                elif ends != _ends(old):
                    doc.rewire(old, *ends)
            elif old is not None and self.target is None:
                doc.disconnect([old])  # a wire pulled off and dropped on nothing is removed
            elif self.reason:
                self.view.statusMessage.emit(f"not connected: {self.reason}")
            if self.target is not None and self.allowed and self.misfit:
                self.view.statusMessage.emit(f"connected, but it does not fit: {self.misfit}")
        except GraphError as exc:
            self.view.statusMessage.emit(str(exc))

    def cancel(self) -> None:
        for item in (self.wire, self.note):
            if item.scene() is not None:
                item.scene().removeItem(item)
        if self.detaching is not None and self.detaching in self.view.scene().edges:
            self.view.scene().edges[self.detaching].show_with_label(True)


def _ends(edge):
    return edge.src, edge.src_port, edge.dst, edge.dst_port


class PanInteraction:
    """Middle-button (or Alt+left) drag scrolls the view."""

    def __init__(self, view, pos) -> None:
        self.view = view
        self.last = pos
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move_view(self, pos) -> None:
        d = pos - self.last
        self.last = pos
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - int(d.x()))
        v.setValue(v.value() - int(d.y()))

    def cancel(self) -> None:
        self.view.viewport().unsetCursor()
