"""The graph model: nodes, ports and wires, edited through methods that validate and emit.

A view mirrors the model by connecting to its signals; it never holds graph state the
model lacks. Every rule (port exists, input free, no cycle, parameter in range) lives
here and raises a typed error from :mod:`studio.core.errors`.
"""

from __future__ import annotations

import heapq
import itertools
import keyword
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from studio.core.errors import (
    CycleError,
    DuplicateNode,
    GraphError,
    IncompatiblePorts,
    InputAlreadyConnected,
    PortError,
    UnknownNode,
)
from studio.core.events import Signal

if TYPE_CHECKING:
    from studio.layers.registry import LayerRegistry
    from studio.layers.spec import LayerSpec
    from studio.spec.ports import Port

NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")

# Node names become submodule and attribute names in the compiled module and in exported
# code, so they may not be Python keywords or names torch modules already use.
RESERVED_NAMES = frozenset(keyword.kwlist) | frozenset("""
    T_destination add_module apply bfloat16 buffers call_super_init children clear compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu items keys load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters pop register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook
    register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train training
    type update values xpu zero_grad layers losses torch nn self
""".split())


def check_node_name(name: str) -> None:
    if not isinstance(name, str) or not NODE_ID.match(name):
        raise GraphError(f"node name {name!r} must start with a letter and use only letters, digits and _ "
                         "(at most 64)")
    if name in RESERVED_NAMES:
        raise GraphError(f"node name {name!r} is reserved (Python or PyTorch uses it); choose another")


LR_SCALE_RANGE = (0.0, 1000.0)


class BadTrainingValue(GraphError):
    """A per-node training value (``lr_scale``) outside what the trainer accepts."""


def check_lr_scale(value: Any) -> float:
    """The one rule for a node's learning-rate multiplier, on load and in the editor."""
    lo, hi = LR_SCALE_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (lo <= value <= hi):
        shown = f"{value:g}" if isinstance(value, float) else repr(value)
        raise BadTrainingValue(f"learning-rate multiplier must be in [{lo:g}, {hi:g}], got {shown}")
    return float(value)


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any]
    position: tuple[float, float] = (0.0, 0.0)  # layout only: never part of the model's meaning
    frozen: bool = False  # parameters excluded from training
    lr_scale: float = 1.0  # per-node learning-rate multiplier

    def copy(self) -> "Node":
        return Node(self.id, self.type, dict(self.params), self.position, self.frozen, self.lr_scale)


@dataclass(frozen=True)
class Edge:
    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"


@dataclass
class GraphSignals:
    node_added: Signal = field(default_factory=lambda: Signal("node_added"))  # (node)
    node_removed: Signal = field(default_factory=lambda: Signal("node_removed"))  # (node)
    node_changed: Signal = field(default_factory=lambda: Signal("node_changed"))  # (node, what)
    node_moved: Signal = field(default_factory=lambda: Signal("node_moved"))  # (node)
    edge_added: Signal = field(default_factory=lambda: Signal("edge_added"))  # (edge)
    edge_removed: Signal = field(default_factory=lambda: Signal("edge_removed"))  # (edge)
    changed: Signal = field(default_factory=lambda: Signal("changed"))  # () after any meaningful edit


class Graph:
    def __init__(self, registry: "LayerRegistry | None" = None) -> None:
        if registry is None:
            from studio.layers import default_registry

            registry = default_registry()
        self.registry = registry
        self._nodes: dict[str, Node] = {}
        # Wires in the order they were made (a dict as an ordered set: removal is O(1)),
        # and each node's wires out and in, kept up to date by every edit, so that a
        # query or a cycle check never rebuilds the adjacency of the whole graph.
        self._edges: dict[Edge, int] = {}  # edge -> its sequence number
        self._out: dict[str, dict[Edge, None]] = {}
        self._in: dict[str, dict[Edge, None]] = {}
        self._into: dict[tuple[str, str], Edge] = {}  # (dst, dst_port) -> edge
        self._edge_seq = itertools.count()
        self._next_suffix: dict[str, int] = {}  # base -> a suffix below which all are taken
        self.signals = GraphSignals()

    # ---- queries -------------------------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise UnknownNode(node_id) from None

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(list(self._nodes.values()))

    def spec(self, node: Node | str) -> "LayerSpec":
        node = self.node(node) if isinstance(node, str) else node
        return self.registry.get(node.type)

    def input_ports(self, node: Node | str) -> tuple["Port", ...]:
        node = self.node(node) if isinstance(node, str) else node
        return self.spec(node).input_ports(node.params)

    def output_ports(self, node: Node | str) -> tuple["Port", ...]:
        node = self.node(node) if isinstance(node, str) else node
        return self.spec(node).output_ports(node.params)

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        return self._into.get((node_id, port))

    def edges_of(self, node_id: str) -> list[Edge]:
        """The node's wires, in the order they were made."""
        mine = {**self._in.get(node_id, {}), **self._out.get(node_id, {})}
        return sorted(mine, key=self._edges.__getitem__)

    def edges_out(self, node_id: str) -> list[Edge]:
        return list(self._out.get(node_id, ()))

    def edges_in(self, node_id: str) -> list[Edge]:
        return list(self._in.get(node_id, ()))

    def successors(self, node_id: str) -> set[str]:
        return {e.dst for e in self._out.get(node_id, ())}

    def new_id(self, type_id: str) -> str:
        base = re.sub(r"[^a-z0-9_]", "_", type_id.lower()) or "node"
        if not base[0].isalpha():
            base = "n_" + base
        # The smallest free suffix, found from where the last search stopped (every
        # suffix below it is taken; removing a node lowers it), so naming n nodes of one
        # type is linear, not quadratic.
        i = self._next_suffix.get(base, 1)
        while f"{base}_{i}" in self._nodes:
            i += 1
        self._next_suffix[base] = i
        return f"{base}_{i}"

    # ---- node edits ---------------------------------------------------------------
    def add_node(self, type_id: str, params: dict[str, Any] | None = None, node_id: str | None = None,
                 position: tuple[float, float] = (0.0, 0.0), frozen: bool = False, lr_scale: float = 1.0) -> Node:
        type_id = self.registry.resolve(type_id)
        spec = self.registry.get(type_id)
        clean = spec.validate_params(params or {})
        node_id = node_id or self.new_id(type_id)
        check_node_name(node_id)
        lr_scale = check_lr_scale(lr_scale)
        if node_id in self._nodes:
            raise DuplicateNode(node_id)
        node = Node(node_id, type_id, clean, (float(position[0]), float(position[1])), bool(frozen), lr_scale)
        self._insert_node(node)
        self.signals.node_added.emit(node)
        self.signals.changed.emit()
        return node

    def _insert_node(self, node: Node) -> None:
        self._nodes[node.id] = node
        self._out[node.id] = {}
        self._in[node.id] = {}

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its wires; returns both so an undo can put them back."""
        node = self.node(node_id)
        removed = self.edges_of(node_id)
        for e in removed:
            self._remove_edge(e)
        del self._nodes[node_id], self._out[node_id], self._in[node_id]
        base, _, suffix = node_id.rpartition("_")
        if suffix.isdigit() and int(suffix) < self._next_suffix.get(base, 1):
            self._next_suffix[base] = int(suffix)  # free again: new_id may hand it out
        self.signals.node_removed.emit(node)
        self.signals.changed.emit()
        return node, removed

    def set_params(self, node_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change parameters; returns the old values. Wires to ports that vanish are removed."""
        node = self.node(node_id)
        spec = self.spec(node)
        merged = {**node.params, **changes}
        clean = spec.validate_params(merged)
        old = {k: node.params[k] for k in changes if k in node.params}
        new_inputs = {p.name for p in spec.input_ports(clean)}
        new_outputs = {p.name for p in spec.output_ports(clean)}
        for e in self.edges_of(node_id):
            if (e.dst == node_id and e.dst_port not in new_inputs) or (e.src == node_id and e.src_port not in new_outputs):
                self._remove_edge(e)
        node.params = clean
        self.signals.node_changed.emit(node, "params")
        self.signals.changed.emit()
        return old

    def set_training(self, node_id: str, frozen: bool | None = None, lr_scale: float | None = None) -> None:
        node = self.node(node_id)
        if lr_scale is not None:
            try:
                lr_scale = check_lr_scale(lr_scale)
            except BadTrainingValue as exc:
                raise BadTrainingValue(f"{node_id}: {exc}") from None
            node.lr_scale = lr_scale
        if frozen is not None:
            node.frozen = bool(frozen)
        self.signals.node_changed.emit(node, "training")
        self.signals.changed.emit()

    def move_node(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.node(node_id)
        node.position = (float(position[0]), float(position[1]))
        self.signals.node_moved.emit(node)

    def check_rename(self, node_id: str, new_id: str) -> None:
        """Raise the typed error that :meth:`rename_node` would raise, changing nothing."""
        self.node(node_id)
        if new_id == node_id:
            return
        check_node_name(new_id)
        if new_id in self._nodes:
            raise DuplicateNode(new_id)

    def rename_node(self, node_id: str, new_id: str) -> None:
        """Give a node a new name; it keeps its place among the nodes, and its wires keep
        theirs among the wires (node order is the compiled model's input order)."""
        self.check_rename(node_id, new_id)
        if new_id == node_id:
            return
        index = self.node_index(node_id)
        edges = self.edge_indices(self.edges_of(node_id))
        node, _ = self.remove_node(node_id)
        node.id = new_id

        def renamed(e: Edge) -> Edge:
            return Edge(new_id if e.src == node_id else e.src, e.src_port,
                        new_id if e.dst == node_id else e.dst, e.dst_port)

        self.restore([(index, node)], [(i, renamed(e)) for i, e in edges])

    # ---- places (for undo: order decides input order and the file's text) ------------
    def node_index(self, node_id: str) -> int:
        self.node(node_id)
        return list(self._nodes).index(node_id)

    def edge_indices(self, edges: Iterable[Edge]) -> list[tuple[int, Edge]]:
        """Each wire with its place in :attr:`edges`, in that order."""
        where = {e: i for i, e in enumerate(self._edges)}
        return sorted((where[e], e) for e in edges)

    def restore(self, nodes: Iterable[tuple[int, Node]] = (), edges: Iterable[tuple[int, Edge]] = ()) -> None:
        """Put nodes and wires back at the places they held, as :meth:`node_index` and
        :meth:`edge_indices` gave them before they were removed (undo of a delete)."""
        nodes = sorted(nodes, key=lambda item: item[0])
        edges = sorted(edges, key=lambda item: item[0])
        for _, n in nodes:
            self.add_node(n.type, n.params, node_id=n.id, position=n.position, frozen=n.frozen, lr_scale=n.lr_scale)
        for _, e in edges:
            self.connect(e.src, e.src_port, e.dst, e.dst_port, allow_cycle=True)
        if nodes:
            back = {n.id for _, n in nodes}
            order = [i for i in self._nodes if i not in back]
            for index, n in nodes:
                order.insert(index, n.id)
            self._nodes = {i: self._nodes[i] for i in order}
        if edges:
            back_edges = {e for _, e in edges}
            order_e = [e for e in self._edges if e not in back_edges]
            for index, e in edges:
                order_e.insert(index, e)
            # Fresh sequence numbers in the restored order (edges_of sorts by them).
            self._edges.clear()
            self._edges.update((e, next(self._edge_seq)) for e in order_e)
        if nodes or edges:
            self.signals.changed.emit()

    # ---- wires ---------------------------------------------------------------------
    def check_connect(self, src: str, src_port: str, dst: str, dst_port: str, allow_cycle: bool = False) -> None:
        """Raise the typed error that :meth:`connect` would raise, without changing anything."""
        s, d = self.node(src), self.node(dst)
        out_port = next((p for p in self.output_ports(s) if p.name == src_port), None)
        in_port = next((p for p in self.input_ports(d) if p.name == dst_port), None)
        if out_port is None:
            if src_port in {p.name for p in self.input_ports(s)}:
                raise PortError(f"{src}.{src_port} is an input; wires go from an output to an input")
            raise PortError(f"{src} ({s.type}) has no output {src_port!r}; it has "
                            + (", ".join(p.name for p in self.output_ports(s)) or "none"))
        if in_port is None:
            if dst_port in {p.name for p in self.output_ports(d)}:
                raise PortError(f"{dst}.{dst_port} is an output; wires go from an output to an input")
            raise PortError(f"{dst} ({d.type}) has no input {dst_port!r}; it has "
                            + (", ".join(p.name for p in self.input_ports(d)) or "none"))
        if out_port.kind != in_port.kind:
            a, b = out_port.kind, in_port.kind
            raise IncompatiblePorts(f"{src}.{src_port} carries a {a}, but {dst}.{dst_port} takes a {b}")
        if (dst, dst_port) in self._into:
            raise InputAlreadyConnected(dst, dst_port)
        if src == dst:
            raise CycleError([src, dst])
        if not allow_cycle:
            path = self._path(dst, src)
            if path:
                raise CycleError(path + [dst])

    def can_connect(self, src: str, src_port: str, dst: str, dst_port: str) -> bool:
        try:
            self.check_connect(src, src_port, dst, dst_port)
        except GraphError:
            return False
        return True

    def connect(self, src: str, src_port: str, dst: str, dst_port: str, allow_cycle: bool = False) -> Edge:
        """Wire an output to an input. ``allow_cycle`` is for loading files, whose
        cycles analysis then reports; the editor never sets it."""
        self.check_connect(src, src_port, dst, dst_port, allow_cycle)
        edge = Edge(src, src_port, dst, dst_port)
        self._add_edge(edge)
        self.signals.edge_added.emit(edge)
        self.signals.changed.emit()
        return edge

    def disconnect(self, edge: Edge) -> None:
        if edge not in self._edges:
            raise GraphError(f"no wire {edge}")
        self._remove_edge(edge)
        self.signals.changed.emit()

    def _add_edge(self, edge: Edge) -> None:
        self._edges[edge] = next(self._edge_seq)
        self._out[edge.src][edge] = None
        self._in[edge.dst][edge] = None
        self._into[(edge.dst, edge.dst_port)] = edge

    def _remove_edge(self, edge: Edge) -> None:
        del self._edges[edge], self._out[edge.src][edge], self._in[edge.dst][edge]
        del self._into[(edge.dst, edge.dst_port)]
        self.signals.edge_removed.emit(edge)

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A path of node ids from start to goal following wires, or None. Visits only
        what start reaches, over the kept adjacency: wiring a new node onto a graph (an
        import, a paste) costs the same whatever the size of the graph."""
        if start == goal:
            return [start]
        prev: dict[str, str] = {start: ""}
        stack = [start]
        while stack:
            n = stack.pop()
            for e in self._out[n]:
                m = e.dst
                if m not in prev:
                    prev[m] = n
                    if m == goal:
                        path = [m]
                        while prev[path[-1]]:
                            path.append(prev[path[-1]])
                        return path[::-1]
                    stack.append(m)
        return None

    # ---- order ---------------------------------------------------------------------
    def topological_order(self) -> tuple[list[str], list[str]]:
        """Node ids in an order where every wire goes forward, ties broken by the order
        nodes were added (so it is stable), and the ids left over because they sit on
        or behind a cycle."""
        # Kahn's algorithm with a heap over the kept adjacency: O((V + E) log V). It is
        # hand-written rather than networkx's lexicographical_topological_sort, which
        # needs a copy of the graph first and took 4x as long on 100,000 nodes.
        rank = {n: i for i, n in enumerate(self._nodes)}
        indeg = {n: len(ins) for n, ins in self._in.items()}
        ready = [(rank[n], n) for n in self._nodes if indeg[n] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, n = heapq.heappop(ready)
            order.append(n)
            for e in self._out[n]:
                m = e.dst
                indeg[m] -= 1
                if indeg[m] == 0:
                    heapq.heappush(ready, (rank[m], m))
        left = [n for n in self._nodes if indeg[n] > 0]
        return order, left

    # ---- bulk ----------------------------------------------------------------------
    def clear(self) -> None:
        for node_id in list(self._nodes):
            self.remove_node(node_id)

    def copy(self) -> "Graph":
        g = Graph(self.registry)
        for n in self._nodes.values():
            g._insert_node(n.copy())
        for e in self._edges:
            g._add_edge(e)
        g._next_suffix = dict(self._next_suffix)
        return g

    def subgraph(self, node_ids: Iterable[str]) -> tuple[list[Node], list[Edge]]:
        """Copies of the given nodes and the wires among them (for copy/paste)."""
        ids = set(node_ids)
        nodes = [self._nodes[i].copy() for i in self._nodes if i in ids]
        edges = [e for e in self._edges if e.src in ids and e.dst in ids]
        return nodes, edges
