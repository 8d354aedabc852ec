"""The open project, its undo stack, and the one edit API the views go through.

Every edit is a command on :attr:`Document.undo_stack`; "modified" is the stack's clean
state. Rules are checked before a command is pushed, so a refused edit raises a typed
:class:`~studio.core.errors.GraphError` and leaves no half-command on the stack.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from studio.core.analysis import Analysis, analyze
from studio.core.graph import Edge, Graph, Node, check_lr_scale
from studio.core.layout import layered_positions
from studio.core.placement import free_offset, free_spot
from studio.core.project import Project, from_dict, load
from studio.ui import commands as cmd

FRAGMENT_MIME = "application/x-layer-studio-fragment"


class Document(QObject):
    projectReplaced = Signal(object)  # the new Project, after New/Open
    graphChanged = Signal()  # after any edit (once per command, not per model signal)
    modifiedChanged = Signal(bool)
    pathChanged = Signal(object)
    layoutChanged = Signal()  # after a move or layout command (positions only)
    trainingChanged = Signal(str)  # the name of a training setting that changed
    dataChanged = Signal()  # the project's data section was replaced

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._analysis: Analysis | None = None
        self._depth = 0
        self._pending = False
        self.project = project if project is not None else Project(Graph())
        self._watch(self.project.graph)

    def _clean_changed(self, clean: bool) -> None:
        try:
            self.modifiedChanged.emit(not clean)
        except RuntimeError:  # the stack says "clean" once more while it is destroyed
            pass

    # ---- the project ---------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        return self.project.graph

    @property
    def path(self) -> Path | None:
        return self.project.path

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def set_project(self, project: Project) -> None:
        """Replace the project (New/Open): clears undo history."""
        self._unwatch(self.project.graph)
        self.project = project
        self._analysis = None
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._watch(project.graph)
        self.projectReplaced.emit(project)
        self.pathChanged.emit(project.path)
        self.modifiedChanged.emit(False)
        self.graphChanged.emit()

    def open(self, path: str | Path) -> Project:
        """Load a file; on error raises ProjectFileError and keeps the current project."""
        project = load(path, self.graph.registry)
        self.set_project(project)
        return project

    def save(self, path: str | Path | None = None) -> Path:
        target = self.project.save(path)
        self.undo_stack.setClean()
        self.pathChanged.emit(target)
        return target

    def analysis(self) -> Analysis:
        """Shapes, costs and problems, computed once per edit."""
        if self._analysis is None:
            self._analysis = analyze(self.graph)
        return self._analysis

    def set_training_value(self, name: str, value: Any) -> None:
        """Set one training setting (undo commands call this; edits push SetSetting)."""
        self.project.training[name] = value
        self.trainingChanged.emit(name)

    def set_data_section(self, data: dict[str, Any]) -> None:
        """Replace the project's data section (undo commands call this; edits push SetData)."""
        self.project.data = dict(data)
        self.dataChanged.emit()

    # ---- change notification -------------------------------------------------------
    def _watch(self, graph: Graph) -> None:
        graph.signals.changed.connect(self._on_model_changed)

    def _unwatch(self, graph: Graph) -> None:
        try:
            graph.signals.changed.disconnect(self._on_model_changed)
        except ValueError:
            pass

    def _on_model_changed(self) -> None:
        self._analysis = None
        if self._depth:
            self._pending = True
        else:
            self.graphChanged.emit()

    @contextmanager
    def batch(self):
        """Hold graphChanged until the outermost batch ends (one signal per command)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._pending:
                self._pending = False
                self.graphChanged.emit()

    @contextmanager
    def macro(self, text: str):
        """Several commands as one undo step."""
        self.undo_stack.beginMacro(text)
        try:
            with self.batch():
                yield
        finally:
            self.undo_stack.endMacro()

    # ---- the edit API --------------------------------------------------------------
    def add_fitting_losses(self) -> list[str]:
        """A graph with outputs but no loss: beside each Output, the loss that fits what
        comes out of it, fed by the same wire (one undo step); the new loss nodes' ids."""
        from studio.core.analysis import fitting_losses

        fits = fitting_losses(self.graph, self.analysis())
        added = []
        if fits:
            with self.macro("Add " + ", ".join(sorted({loss for _o, loss, _w in fits}))):
                for out, loss, _why in fits:
                    edge = self.graph.edge_into(out, "in")
                    x, y = self.graph.node(out).position
                    node = self.add_node(loss, (x, y + 110))
                    self.connect(edge.src, edge.src_port, node, "in")
                    added.append(node)
        return added

    def add_node(self, type_id: str, position: tuple[float, float] = (0.0, 0.0),
                 params: dict[str, Any] | None = None) -> str:
        reg = self.graph.registry
        type_id = reg.resolve(type_id)
        clean = reg.get(type_id).validate_params(params or {})
        position = free_spot((float(position[0]), float(position[1])), (n.position for n in self.graph.nodes))
        node = Node(self.graph.new_id(type_id), type_id, clean, position)
        self.undo_stack.push(cmd.AddNodes(self, [node], text=f"Add {reg.get(type_id).title}"))
        return node.id

    def remove_nodes(self, node_ids: Iterable[str]) -> None:
        ids = [i for i in dict.fromkeys(node_ids) if i in self.graph]
        if ids:
            self.undo_stack.push(cmd.RemoveNodes(self, ids, "Delete " + (ids[0] if len(ids) == 1 else f"{len(ids)} layers")))

    def delete(self, node_ids: Iterable[str], edges: Iterable[Edge] = ()) -> None:
        """Delete nodes and wires together, as one step."""
        node_ids = [i for i in node_ids if i in self.graph]
        ids = set(node_ids)
        wires = [e for e in edges if e.src not in ids and e.dst not in ids and e in self.graph.edges]
        if not node_ids and not wires:
            return
        with self.macro("Delete"):
            if wires:
                self.undo_stack.push(cmd.Disconnect(self, wires))
            self.remove_nodes(node_ids)

    def connect(self, src: str, src_port: str, dst: str, dst_port: str) -> Edge:
        self.graph.check_connect(src, src_port, dst, dst_port)
        edge = Edge(src, src_port, dst, dst_port)
        self.undo_stack.push(cmd.Connect(self, edge))
        return edge

    def rewire(self, old: Edge, src: str, src_port: str, dst: str, dst_port: str) -> Edge:
        """Move a wire's ends, as one undo step."""
        if (dst, dst_port) != (old.dst, old.dst_port):
            self.graph.check_connect(src, src_port, dst, dst_port)
        edge = Edge(src, src_port, dst, dst_port)
        with self.macro("Move wire"):
            self.undo_stack.push(cmd.Disconnect(self, [old]))
            self.undo_stack.push(cmd.Connect(self, edge))
        return edge

    def disconnect(self, edges: Iterable[Edge]) -> None:
        edges = [e for e in edges if e in self.graph.edges]
        if edges:
            self.undo_stack.push(cmd.Disconnect(self, edges))

    def move_nodes(self, moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
                   text: str = "Move") -> None:
        moves = {i: (o, n) for i, (o, n) in moves.items() if o != n and i in self.graph}
        if moves:
            self.undo_stack.push(cmd.MoveNodes(self, moves, text))

    def set_params(self, node_id: str, changes: dict[str, Any]) -> None:
        node = self.graph.node(node_id)
        self.graph.spec(node).validate_params({**node.params, **changes})  # refuse before pushing
        changes = {k: v for k, v in changes.items() if node.params.get(k) != v}
        if changes:
            self.undo_stack.push(cmd.SetParams(self, node_id, changes))

    def set_params_many(self, node_ids: list[str], changes: dict[str, Any]) -> None:
        with self.macro(f"Set {', '.join(changes)} on {len(node_ids)} layers"):
            for i in node_ids:
                self.set_params(i, changes)

    def set_training(self, node_ids: Iterable[str], frozen: bool | None = None,
                     lr_scale: float | None = None) -> None:
        ids = [i for i in node_ids if i in self.graph]
        if lr_scale is not None:
            check_lr_scale(lr_scale)  # the model's rule, asked before anything is pushed
        if ids:
            self.undo_stack.push(cmd.SetTraining(self, ids, frozen, lr_scale))

    def rename(self, old: str, new: str) -> None:
        if old == new:
            return
        self.graph.check_rename(old, new)  # the model's rules, asked before anything is pushed
        self.undo_stack.push(cmd.Rename(self, old, new))

    def auto_layout(self, direction: str = "lr", aspect: float | None = 1.6) -> None:
        positions = layered_positions(self.graph, direction, aspect=aspect)
        moves = {i: (self.graph.node(i).position, p) for i, p in positions.items()}
        self.move_nodes(moves, "Auto-layout")

    # ---- fragments (copy/paste) ----------------------------------------------------
    def fragment(self, node_ids: Iterable[str]) -> str:
        """The selected nodes and the wires among them, as project JSON."""
        keep = set(node_ids)
        part = self.graph.copy()
        for n in part.nodes:
            if n.id not in keep:
                part.remove_node(n.id)
        doc = Project(part).to_dict()
        return json.dumps({k: doc[k] for k in ("format", "nodes", "edges", "layout")})

    def paste(self, text: str, offset: tuple[float, float] = (40.0, 40.0), text_label: str = "Paste") -> list[str]:
        """Add a fragment's nodes under fresh names; raises ProjectFileError if unreadable."""
        try:
            raw = json.loads(text)
        except ValueError as exc:
            from studio.core.errors import ProjectFileError
            raise ProjectFileError("clipboard", "", f"is not a Layer Studio fragment: {exc}") from None
        part = from_dict(raw, "clipboard", self.graph.registry)
        rename: dict[str, str] = {}
        taken = set(n.id for n in self.graph)
        nodes = []
        for n in part.graph.nodes:
            new_id = n.id
            if new_id in taken:  # conv1 -> conv1_2, linear_1 -> linear_2
                base = re.sub(r"_\d+$", "", n.id)[:56] or "node"
                k = 2
                while f"{base}_{k}" in taken:
                    k += 1
                new_id = f"{base}_{k}"
            taken.add(new_id)
            rename[n.id] = new_id
            c = n.copy()
            c.id = new_id
            nodes.append(c)
        # The whole fragment moves together, to the nearest place where it covers no node.
        dx, dy = free_offset([c.position for c in nodes], offset, (n.position for n in self.graph.nodes))
        for c in nodes:
            c.position = (c.position[0] + dx, c.position[1] + dy)
        edges = [Edge(rename[e.src], e.src_port, rename[e.dst], e.dst_port) for e in part.graph.edges]
        if nodes:
            self.undo_stack.push(cmd.AddNodes(self, nodes, edges, text_label))
        return [n.id for n in nodes]
