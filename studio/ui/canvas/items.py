"""Node, port and wire items. They draw what the model and the analysis say and hold
no graph state of their own beyond the ids that name what they draw."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from studio.layers.categories import category_hex
from studio.ui.canvas.routing import routed_path, wire_path

NODE_WIDTH = 184.0
# Below this scale a node's small text would be drawn about 7 pixels high or less: nodes are
# drawn as coloured blocks and wire labels are left out (level of detail).
TEXT_MIN_SCALE = 0.65


def shows_text(painter: QPainter) -> bool:
    """Whether text is drawn at the painter's scale (level of detail)."""
    return QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform()) >= TEXT_MIN_SCALE
HEADER = 28.0
ROW = 20.0
FOOTER = 22.0
PORT_R = 5.5

ERROR_COLOUR = QColor("#e0403a")
WARNING_COLOUR = QColor("#e0a030")


def category_colour(category: str) -> QColor:
    return QColor(category_hex(category))


class Theme:
    """Colours the items read; the app sets them when the theme changes."""

    body = QColor("#2b2d31")
    text = QColor("#e8e8e8")
    subtle = QColor("#a0a4aa")
    wire = QColor("#9aa0a8")
    label_bg = QColor(30, 32, 36, 220)
    selected = QColor("#ffd24a")

    @classmethod
    def set_dark(cls, dark: bool) -> None:
        if dark:
            cls.body, cls.text, cls.subtle = QColor("#2b2d31"), QColor("#e8e8e8"), QColor("#a0a4aa")
            cls.wire, cls.label_bg, cls.selected = QColor("#9aa0a8"), QColor(30, 32, 36, 220), QColor("#ffd24a")
        else:
            cls.body, cls.text, cls.subtle = QColor("#ffffff"), QColor("#1d1f23"), QColor("#5d636b")
            cls.wire, cls.label_bg, cls.selected = QColor("#6d737b"), QColor(250, 250, 250, 230), QColor("#e08a00")


# Fixed sizes: the canvas opens zoomed out to 0.6 at least, and labels must stay readable.
_TITLE_FONT = QFont()
_TITLE_FONT.setPointSizeF(11.0)
_TITLE_FONT.setBold(True)
_SMALL_FONT = QFont()
_SMALL_FONT.setPointSizeF(10.0)


def human(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


class PortItem(QGraphicsItem):
    def __init__(self, node_item: "NodeItem", name: str, is_output: bool, kind: str) -> None:
        super().__init__(node_item)
        self.node_item = node_item
        self.name = name
        self.is_output = is_output
        self.kind = kind
        self.highlight: QColor | None = None
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def boundingRect(self) -> QRectF:
        r = PORT_R + 3
        return QRectF(-r, -r, 2 * r, 2 * r)

    def scene_center(self) -> QPointF:
        return self.scenePos()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        fill = self.highlight or (QColor("#d9b44a") if self.kind == "state" else Theme.wire)
        painter.setPen(QPen(Theme.body.darker(150), 1.2))
        painter.setBrush(fill)
        painter.drawEllipse(QPointF(0, 0), PORT_R, PORT_R)

    def hoverEnterEvent(self, event) -> None:
        self.highlight = Theme.selected
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self.highlight = None
        self.update()


class NodeItem(QGraphicsItem):
    def __init__(self, node_id: str, type_title: str, category: str,
                 inputs: list[tuple[str, str]], outputs: list[tuple[str, str]], vertical: bool = False) -> None:
        super().__init__()
        self.node_id = node_id
        self.type_title = type_title
        self.colour = category_colour(category)
        self.frozen = False
        self.params_text = ""
        self.severity: str | None = None
        self.edges: list[EdgeItem] = []
        self.ports: dict[tuple[str, bool], PortItem] = {}
        self._height = HEADER
        self.vertical = False
        self._port_spec: tuple[list, list] = ([], [])
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.set_ports(inputs, outputs, vertical)

    def set_ports(self, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]],
                  vertical: bool | None = None) -> None:
        """Inputs on the left and outputs on the right, or on the top and bottom edges
        when the graph is laid out top to bottom."""
        if vertical is not None:
            self.vertical = vertical
        self._port_spec = (list(inputs), list(outputs))
        for port in self.ports.values():
            port.setParentItem(None)
            if port.scene():
                port.scene().removeItem(port)
        self.ports = {}
        self.prepareGeometryChange()
        if self.vertical:
            labelled = len(inputs) > 1 or len(outputs) > 1
            self._height = HEADER + (2 * ROW if labelled else 0) + FOOTER
        else:
            self._height = HEADER + max(len(inputs), len(outputs), 1) * ROW + FOOTER
        for ports, is_out in ((inputs, False), (outputs, True)):
            for i, (name, kind) in enumerate(ports):
                p = PortItem(self, name, is_out, kind)
                if self.vertical:
                    p.setPos(NODE_WIDTH * (i + 1) / (len(ports) + 1), self._height if is_out else 0.0)
                else:
                    p.setPos(NODE_WIDTH if is_out else 0.0, HEADER + (i + 0.5) * ROW)
                self.ports[(name, is_out)] = p
        for edge in self.edges:  # wires follow the new port items
            if edge.edge.src == self.node_id and (edge.edge.src_port, True) in self.ports:
                edge.src = self.ports[(edge.edge.src_port, True)]
            if edge.edge.dst == self.node_id and (edge.edge.dst_port, False) in self.ports:
                edge.dst = self.ports[(edge.edge.dst_port, False)]
            edge.update_path()
        self.update()

    def set_vertical(self, vertical: bool) -> None:
        if vertical != self.vertical:
            self.set_ports(*self._port_spec, vertical=vertical)

    def port(self, name: str, is_output: bool) -> PortItem | None:
        return self.ports.get((name, is_output))

    def set_state(self, params: int, severity: str | None, tooltip: str, frozen: bool) -> None:
        text = f"{human(params)} params" if params else "no params"
        if (text, severity, tooltip, frozen) != (self.params_text, self.severity, self.toolTip(), self.frozen):
            self.params_text, self.severity, self.frozen = text, severity, frozen
            self.setToolTip(tooltip)
            self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, NODE_WIDTH + 4, self._height + 4)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        rect = QRectF(0, 0, NODE_WIDTH, self._height)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.severity == "error":
            border = QPen(ERROR_COLOUR, 2.5)
        elif self.severity == "warning":
            border = QPen(WARNING_COLOUR, 2.0)
        else:
            border = QPen(self.colour.darker(130), 1.2)
        if self.isSelected():
            border = QPen(Theme.selected, 2.5)
        body = Theme.body if not self.frozen else Theme.body.darker(115) if Theme.body.lightness() > 128 else Theme.body.lighter(125)
        painter.setPen(border)
        painter.setBrush(body)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.colour if not self.frozen else self.colour.darker(140))
        painter.drawRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER), 6, 6)
        painter.drawRect(QRectF(0, HEADER / 2, NODE_WIDTH, HEADER / 2))  # square lower corners
        if self.frozen:
            painter.setBrush(QBrush(QColor(128, 128, 128, 90), Qt.BrushStyle.BDiagPattern))
            painter.drawRoundedRect(rect, 6, 6)
            self._draw_lock(painter, QPointF(NODE_WIDTH - 16, HEADER / 2))
        if not shows_text(painter):
            return  # level of detail: the coloured block and its ports, no unreadable text
        painter.setPen(QColor("#ffffff"))
        painter.setFont(_TITLE_FONT)
        fm = QFontMetricsF(_TITLE_FONT)
        title_w = NODE_WIDTH - 16 - (18 if self.frozen else 0)
        painter.drawText(QRectF(8, 0, title_w, HEADER), Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(self.node_id, Qt.TextElideMode.ElideRight, title_w))
        painter.setFont(_SMALL_FONT)
        sfm = QFontMetricsF(_SMALL_FONT)
        painter.setPen(Theme.text)
        half = NODE_WIDTH / 2 - 12
        for (name, is_out), port in self.ports.items():
            y = port.pos().y()
            if self.vertical:
                if len(self._port_spec[1 if is_out else 0]) > 1:
                    x = port.pos().x()
                    yy = self._height - FOOTER - ROW if is_out else HEADER
                    painter.drawText(QRectF(x - 30, yy, 60, ROW), Qt.AlignmentFlag.AlignCenter,
                                     sfm.elidedText(name, Qt.TextElideMode.ElideRight, 58))
                continue
            if is_out:
                r = QRectF(NODE_WIDTH / 2, y - ROW / 2, half, ROW)
                painter.drawText(r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 sfm.elidedText(name, Qt.TextElideMode.ElideRight, half))
            else:
                r = QRectF(12, y - ROW / 2, half, ROW)
                painter.drawText(r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 sfm.elidedText(name, Qt.TextElideMode.ElideRight, half))
        painter.setPen(Theme.subtle)
        foot = QRectF(8, self._height - FOOTER, NODE_WIDTH - 16, FOOTER - 2)
        title, params = self.footer_texts(sfm, foot.width())
        painter.drawText(foot, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        painter.drawText(foot, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, params)

    def footer_texts(self, fm: QFontMetricsF, width: float) -> tuple[str, str]:
        """The layer type and the parameter count as drawn: the type is what a person reads
        the node by, so the count gives up its word ("9.25k" for "9.25k params") before
        the type is shortened, then goes (it is in the inspector) before the type does."""
        title, params = self.type_title, self.params_text
        if fm.horizontalAdvance(title) + fm.horizontalAdvance(params) + 8 > width:
            params = params.replace(" params", "") if params != "no params" else ""
        if fm.horizontalAdvance(title) + fm.horizontalAdvance(params) + 8 > width:
            params = ""  # the count is in the tooltip and the inspector
        room = width - (fm.horizontalAdvance(params) + 8 if params else 0)
        return fm.elidedText(title, Qt.TextElideMode.ElideRight, room), params

    @staticmethod
    def _draw_lock(painter: QPainter, c: QPointF) -> None:
        painter.setPen(QPen(QColor("#ffffff"), 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawArc(QRectF(c.x() - 4, c.y() - 8, 8, 9), 0, 180 * 16)
        painter.setBrush(QColor("#ffffff"))
        painter.drawRect(QRectF(c.x() - 5.5, c.y() - 3, 11, 8))

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.update()
        return super().itemChange(change, value)


class EdgeLabel(QGraphicsItem):
    """A wire's shape label. A top-level item above the nodes, so a wire that passes
    behind a node still shows its shape."""

    def __init__(self, edge_item: "EdgeItem") -> None:
        super().__init__()
        self.edge_item = edge_item
        self.rect = QRectF()
        self.setZValue(2)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        e = self.edge_item
        if not e.label or not shows_text(painter):
            return
        colour = Theme.selected if e.isSelected() else ERROR_COLOUR if e.problem else Theme.wire
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 1))
        painter.setBrush(Theme.label_bg)
        painter.drawRoundedRect(self.rect, 3, 3)
        painter.setFont(_SMALL_FONT)
        painter.setPen(ERROR_COLOUR if e.problem else Theme.text)
        painter.drawText(self.rect, Qt.AlignmentFlag.AlignCenter, e.label)


class EdgeItem(QGraphicsPathItem):
    """A wire from an output port to an input port, with its tensor shape as a label."""

    def __init__(self, edge, src: PortItem, dst: PortItem) -> None:
        super().__init__()
        self.edge = edge
        self.src, self.dst = src, dst
        self.label = ""
        self.problem: str | None = None
        self._route_key = None
        self.label_item = EdgeLabel(self)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.update_path()

    def show_with_label(self, shown: bool) -> None:
        self.setVisible(shown)
        self.label_item.setVisible(shown)

    def update_path(self, obstacles=None) -> None:
        """The wire between its ports; with ``obstacles(rect)`` (from the scene, listing
        node rectangles) it bends around nodes it would pass behind. While a node is
        dragged it follows as a plain curve, and is routed again on release."""
        a, b, vertical = self.src.scene_center(), self.dst.scene_center(), self.src.node_item.vertical
        if obstacles is None:
            self._route_key = None
            path = wire_path(a, b, vertical)
        else:
            # Routing samples the curve; skip it when neither the ends nor the nodes near
            # the wire (plain or routed) moved since the last time.
            ends = (self.src.node_item.sceneBoundingRect(), self.dst.node_item.sceneBoundingRect())
            path = wire_path(a, b, vertical)
            near = obstacles(path.boundingRect().united(self.path().boundingRect()))
            key = (a.x(), a.y(), b.x(), b.y(), vertical, tuple(r.getRect() for r in near if r not in ends))
            if key == self._route_key:
                return
            self._route_key = key
            path = routed_path(a, b, vertical, obstacles, ends, path)
        self.prepareGeometryChange()
        self.setPath(path)
        if obstacles is None:
            self._place_label()  # the scene places it, off the nodes, after routing

    def _place_label(self, covered=None) -> None:
        """Put the label at the wire's middle; ``covered(rect)`` (from the scene) says
        whether a node hides that spot, and then the label slides along the wire."""
        item = self.label_item
        item.prepareGeometryChange()
        if not self.label:
            item.rect = QRectF()
            return
        fm = QFontMetricsF(_SMALL_FONT)
        w, h = fm.horizontalAdvance(self.label) + 8, fm.height() + 2
        node = self.dst.node_item
        ins = [p for (n, out), p in node.ports.items() if not out]
        left = node.vertical and len(ins) > 1 and ins.index(self.dst) < len(ins) / 2
        for t in (0.5, 0.35, 0.65, 0.2, 0.8) if covered is not None else (0.5,):
            mid = self.path().pointAtPercent(t)
            if node.vertical:
                # Beside a vertical wire, on the side its input sits on, so the labels of
                # neighbouring inputs lean apart instead of piling up.
                mid = QPointF(mid.x() - w / 2 - 6 if left else mid.x() + w / 2 + 6, mid.y())
            item.rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
            if covered is None or not covered(item.rect):
                break
        item.update()

    def set_state(self, label: str, problem: str | None) -> None:
        if (label, problem) != (self.label, self.problem):
            self.label, self.problem = label, problem
            self.setToolTip(problem or f"{self.edge}  {label}")
            self._place_label()
            self.update()
            self.label_item.update()

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.label_item.update()
        return super().itemChange(change, value)

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-3, -3, 3, 3)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self.path())

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = ERROR_COLOUR if self.problem else Theme.wire
        if self.isSelected():
            colour = Theme.selected
        painter.setPen(QPen(colour, 2.2 if self.isSelected() else 1.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
