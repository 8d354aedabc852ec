"""The scene mirrors the document's graph through the model's signals; analysis results
(shapes on wires, problems, param counts) are applied once per edit."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QGraphicsScene

from studio.core.graph import Edge, Graph, Node
from studio.ui.canvas.items import EdgeItem, NodeItem
from studio.ui.canvas.routing import ROUTE_CROWD


RED_CODES = {"shape", "cycle", "unconnected_input"}


class GraphScene(QGraphicsScene):
    selectionIdsChanged = Signal(list)  # node ids

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self._graph: Graph | None = None
        self._syncing = False
        self.vertical = False
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        # Bound methods, not lambdas: Qt drops them when the scene is deleted.
        document.projectReplaced.connect(self._project_replaced)
        document.graphChanged.connect(self.refresh_analysis)
        document.layoutChanged.connect(self.refresh_orientation)
        self.selectionChanged.connect(self._selection_changed)
        self.bind(document.graph)

    def _project_replaced(self, _project) -> None:
        self.bind(self.document.graph)

    def _selection_changed(self) -> None:
        self.selectionIdsChanged.emit(self.selected_ids())

    # ---- mirroring -----------------------------------------------------------------
    def bind(self, graph: Graph) -> None:
        if self._graph is not None:
            s = self._graph.signals
            for sig, slot in self._slots():
                getattr(s, sig).disconnect(slot)
        self.clear()
        self.nodes, self.edges = {}, {}
        self._graph = graph
        self.vertical = self._flows_down()
        for sig, slot in self._slots():
            getattr(graph.signals, sig).connect(slot)
        for node in graph.nodes:
            self._node_added(node)
        for edge in graph.edges:
            self._edge_added(edge)
        self.refresh_analysis()

    def _flows_down(self) -> bool:
        """Whether the wires mostly run downwards (a top-to-bottom layout): derived
        from positions, so the file needs no orientation field."""
        g, dx, dy = self._graph, 0.0, 0.0
        for e in g.edges:
            a, b = g.node(e.src).position, g.node(e.dst).position
            dx += abs(b[0] - a[0])
            dy += abs(b[1] - a[1])
        return dy > dx

    def place_labels(self) -> None:
        """Route wires around the nodes they would pass behind, and keep shape labels off
        nodes and off each other. Grids of node and label rectangles, built once per call,
        keep this linear in the number of wires."""
        cell = 256.0

        def cells(rect):
            for gx in range(int(rect.left() // cell), int(rect.right() // cell) + 1):
                for gy in range(int(rect.top() // cell), int(rect.bottom() // cell) + 1):
                    yield gx, gy

        rects = [item.sceneBoundingRect() for item in self.nodes.values()]
        grid: dict[tuple[int, int], list[int]] = {}
        for i, r in enumerate(rects):
            for c in cells(r):
                grid.setdefault(c, []).append(i)
        labels: dict[tuple[int, int], list] = {}  # the labels placed so far

        def obstacles(rect, limit: int = ROUTE_CROWD + 3) -> list:  # + the wire's own two
            """Up to ``limit`` node rectangles meeting ``rect`` (enough to tell a crowd)."""
            found: dict[int, None] = {}
            for c in cells(rect):
                for i in grid.get(c, ()):
                    if i not in found and rects[i].intersects(rect):
                        found[i] = None
                        if len(found) >= limit:
                            return [rects[j] for j in found]
            return [rects[j] for j in found]

        def covered(rect) -> bool:
            return bool(obstacles(rect, 1)) or any(r.intersects(rect) for c in cells(rect) for r in labels.get(c, ()))

        for edge in self.edges.values():
            edge.update_path(obstacles)
            edge._place_label(covered)
            rect = QRectF(edge.label_item.rect)
            if not rect.isEmpty():
                for c in cells(rect):
                    labels.setdefault(c, []).append(rect)

    def refresh_orientation(self) -> None:
        vertical = self._flows_down()
        if vertical == self.vertical:
            self.place_labels()
            return
        self.vertical = vertical
        for item in self.nodes.values():
            item.set_vertical(vertical)
        self.place_labels()  # routes every wire for the new port sides

    def _slots(self):
        return (("node_added", self._node_added), ("node_removed", self._node_removed),
                ("node_changed", self._node_changed), ("node_moved", self._node_moved),
                ("edge_added", self._edge_added), ("edge_removed", self._edge_removed))

    def _ports(self, node: Node):
        g = self._graph
        return ([(p.name, p.kind) for p in g.input_ports(node)], [(p.name, p.kind) for p in g.output_ports(node)])

    def _node_added(self, node: Node) -> None:
        spec = self._graph.spec(node)
        ins, outs = self._ports(node)
        item = NodeItem(node.id, spec.title, spec.category, ins, outs, self.vertical)
        item.setToolTip(spec.doc)
        self._syncing = True
        item.setPos(QPointF(*node.position))
        self._syncing = False
        self.nodes[node.id] = item
        self.addItem(item)

    def _node_removed(self, node: Node) -> None:
        item = self.nodes.pop(node.id, None)
        if item is not None:
            self.removeItem(item)

    def _node_changed(self, node: Node, what: str) -> None:
        item = self.nodes.get(node.id)
        if item is not None and what == "params":
            ins, outs = self._ports(node)
            item.set_ports(ins, outs)
            for edge in item.edges:
                edge.update_path()

    def _node_moved(self, node: Node) -> None:
        item = self.nodes.get(node.id)
        if item is not None and (item.pos().x(), item.pos().y()) != node.position:
            item.setPos(QPointF(*node.position))

    def _edge_added(self, edge: Edge) -> None:
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        sp, dp = src.port(edge.src_port, True), dst.port(edge.dst_port, False)
        if sp is None or dp is None:
            return
        item = EdgeItem(edge, sp, dp)
        src.edges.append(item)
        dst.edges.append(item)
        self.edges[edge] = item
        self.addItem(item)
        self.addItem(item.label_item)

    def _edge_removed(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is None:
            return
        for end in (edge.src, edge.dst):
            if end in self.nodes and item in self.nodes[end].edges:
                self.nodes[end].edges.remove(item)
        self.removeItem(item.label_item)
        self.removeItem(item)

    def refresh_analysis(self) -> None:
        analysis = self.document.analysis()
        g = self._graph
        for node_id, item in self.nodes.items():
            if node_id not in g:
                continue
            node = g.node(node_id)
            info = analysis.nodes.get(node_id)
            problems = analysis.problems_of(node_id)
            severity = None
            # A shape that does not fit is drawn red even when analysis only warns about it.
            if any(p.severity == "error" or p.code in RED_CODES for p in problems):
                severity = "error"
            elif problems:
                severity = "warning"
            spec = g.spec(node)
            tip = f"<b>{node_id}</b> ({spec.title})<br>{spec.doc}"
            if problems:
                tip += "<br>" + "<br>".join(f"<span style='color:#e0403a'>{p.severity}: {p.message}</span>"
                                            for p in problems)
            item.set_state(info.params if info else 0, severity, tip, node.frozen)
        for edge, item in self.edges.items():
            shape = analysis.edge_shape(edge)
            dst_info = analysis.nodes.get(edge.dst)
            problem = None
            if dst_info is not None and dst_info.error and any(p.code == "shape" for p in analysis.problems_of(edge.dst)):
                problem = dst_info.error
            item.set_state(str(shape) if shape is not None else "?", problem)
        self.place_labels()

    # ---- queries the view and window use -------------------------------------------
    def selected_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, ids) -> None:
        ids = set(ids)
        self.blockSignals(True)
        self.clearSelection()
        for i in ids:
            if i in self.nodes:
                self.nodes[i].setSelected(True)
        self.blockSignals(False)
        self.selectionChanged.emit()

    def commit_moves(self) -> None:
        """Push one move command for every node the user dragged (called on release)."""
        moves = {}
        g = self._graph
        for node_id, item in self.nodes.items():
            pos = (item.pos().x(), item.pos().y())
            if node_id in g and g.node(node_id).position != pos:
                moves[node_id] = (g.node(node_id).position, pos)
        if moves:
            self.document.move_nodes(moves)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        try:
            self.commit_moves()
        except Exception as exc:  # an exception here would take the app down
            import traceback
            traceback.print_exception(exc)
