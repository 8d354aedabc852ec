"""Undo commands. Each changes the model (the graph, the project's training settings or
its data section) and nothing else: the canvas, inspector, problems list, training panel
and data panel follow the model's signals, so undo and redo need no view code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from studio.core.graph import Edge, Node

if TYPE_CHECKING:
    from studio.ui.document import Document


class _Command(QUndoCommand):
    def __init__(self, doc: "Document", text: str) -> None:
        super().__init__(text)
        self.doc = doc

    @property
    def graph(self):
        return self.doc.graph

    def redo(self) -> None:
        with self.doc.batch():
            self._redo()

    def undo(self) -> None:
        with self.doc.batch():
            self._undo()

    def _redo(self) -> None:
        raise NotImplementedError

    def _undo(self) -> None:
        raise NotImplementedError


def _restore(graph, nodes: list[Node], edges: list[Edge]) -> None:
    for n in nodes:
        graph.add_node(n.type, n.params, node_id=n.id, position=n.position, frozen=n.frozen, lr_scale=n.lr_scale)
    for e in edges:
        if graph.edge_into(e.dst, e.dst_port) is None:
            graph.connect(e.src, e.src_port, e.dst, e.dst_port, allow_cycle=True)


class AddNodes(_Command):
    """Add nodes and the wires among them (a new layer, a paste, a duplicate)."""

    def __init__(self, doc, nodes: list[Node], edges: list[Edge] = (), text: str = "Add layer") -> None:
        super().__init__(doc, text)
        self.nodes = [n.copy() for n in nodes]
        self.edges = list(edges)

    def _redo(self) -> None:
        _restore(self.graph, self.nodes, self.edges)

    def _undo(self) -> None:
        for n in reversed(self.nodes):
            self.graph.remove_node(n.id)


class RemoveNodes(_Command):
    """Undo puts each node and wire back at its place: node order is the model's input
    order, and the saved file must come back byte for byte."""

    def __init__(self, doc, node_ids: list[str], text: str = "Delete") -> None:
        super().__init__(doc, text)
        self.ids = list(node_ids)
        self.nodes: list[tuple[int, Node]] = []
        self.edges: list[tuple[int, Edge]] = []

    def _redo(self) -> None:
        g = self.graph
        ids = set(self.ids)
        self.edges = g.edge_indices(e for e in g.edges if e.src in ids or e.dst in ids)
        self.nodes = [(g.node_index(i), g.node(i).copy()) for i in self.ids]
        for i in self.ids:
            g.remove_node(i)

    def _undo(self) -> None:
        self.graph.restore(self.nodes, self.edges)


class Connect(_Command):
    def __init__(self, doc, edge: Edge) -> None:
        super().__init__(doc, f"Connect {edge.src} to {edge.dst}")
        self.edge = edge

    def _redo(self) -> None:
        e = self.edge
        self.graph.connect(e.src, e.src_port, e.dst, e.dst_port)

    def _undo(self) -> None:
        self.graph.disconnect(self.edge)


class Disconnect(_Command):
    def __init__(self, doc, edges: list[Edge]) -> None:
        super().__init__(doc, "Remove wire" if len(edges) == 1 else f"Remove {len(edges)} wires")
        self.edges = list(edges)
        self.places: list[tuple[int, Edge]] = []

    def _redo(self) -> None:
        self.places = self.graph.edge_indices(self.edges)
        for e in self.edges:
            self.graph.disconnect(e)

    def _undo(self) -> None:
        self.graph.restore(edges=self.places)


class MoveNodes(_Command):
    """Positions before and after: one command per drag (pushed on release) or layout."""

    def __init__(self, doc, moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
                 text: str = "Move") -> None:
        super().__init__(doc, text)
        self.moves = dict(moves)

    def _redo(self) -> None:
        for node_id, (_old, new) in self.moves.items():
            self.graph.move_node(node_id, new)
        self.doc.layoutChanged.emit()

    def _undo(self) -> None:
        for node_id, (old, _new) in self.moves.items():
            self.graph.move_node(node_id, old)
        self.doc.layoutChanged.emit()


class SetParams(_Command):
    def __init__(self, doc, node_id: str, changes: dict[str, Any]) -> None:
        names = ", ".join(changes)
        super().__init__(doc, f"Set {node_id}.{names}")
        self.node_id = node_id
        self.changes = dict(changes)
        self.old: dict[str, Any] = {}
        self.dropped: list[tuple[int, Edge]] = []

    def _redo(self) -> None:
        g = self.graph
        before = g.edge_indices(g.edges_of(self.node_id))
        self.old = g.set_params(self.node_id, self.changes)
        after = set(g.edges_of(self.node_id))
        # A parameter can remove a port (e.g. fewer merge inputs); undo puts its wires back.
        self.dropped = [(i, e) for i, e in before if e not in after]

    def _undo(self) -> None:
        self.graph.set_params(self.node_id, self.old)
        self.graph.restore(edges=self.dropped)


class SetTraining(_Command):
    def __init__(self, doc, node_ids: list[str], frozen: bool | None, lr_scale: float | None) -> None:
        what = "Freeze" if frozen else "Unfreeze" if frozen is not None else "Set learning-rate multiplier"
        super().__init__(doc, what)
        self.ids = list(node_ids)
        self.frozen, self.lr_scale = frozen, lr_scale
        self.old = {i: (doc.graph.node(i).frozen, doc.graph.node(i).lr_scale) for i in self.ids}

    def _redo(self) -> None:
        for i in self.ids:
            self.graph.set_training(i, self.frozen, self.lr_scale)

    def _undo(self) -> None:
        for i, (frozen, lr) in self.old.items():
            self.graph.set_training(i, frozen, lr)


class Rename(_Command):
    def __init__(self, doc, old: str, new: str) -> None:
        super().__init__(doc, f"Rename {old} to {new}")
        self.old_id, self.new_id = old, new

    def _redo(self) -> None:
        self.graph.rename_node(self.old_id, self.new_id)

    def _undo(self) -> None:
        self.graph.rename_node(self.new_id, self.old_id)


class SetSetting(QUndoCommand):
    """Change one training setting; repeated edits of the same setting merge into one step."""

    ID = 0x5E7

    def __init__(self, doc: "Document", name: str, value: Any) -> None:
        super().__init__(f"Set {name.replace('_', ' ')}")
        self.doc, self.name, self.value = doc, name, value
        self.old = doc.project.training.get(name)

    def id(self) -> int:  # noqa: A003 (Qt API)
        return self.ID

    def mergeWith(self, other) -> bool:  # noqa: N802 (Qt API)
        if other.name != self.name:
            return False
        self.value = other.value
        return True

    def redo(self) -> None:
        self.doc.set_training_value(self.name, self.value)

    def undo(self) -> None:
        self.doc.set_training_value(self.name, self.old)


class SetData(QUndoCommand):
    """Replace the project's data section (the data panel's "Use this data")."""

    def __init__(self, doc: "Document", new: dict[str, Any]) -> None:
        super().__init__(f"Use data {new.get('dataset', '')}")
        self.doc, self.new = doc, dict(new)
        self.old = dict(doc.project.data)

    def redo(self) -> None:
        self.doc.set_data_section(self.new)

    def undo(self) -> None:
        self.doc.set_data_section(self.old)
