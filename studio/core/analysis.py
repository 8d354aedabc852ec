"""Shape inference and the list of problems a graph has before it is trained.

Runs the layers' shape rules in topological order, so each port gets a shape with a
symbolic batch axis, each node its parameter and FLOP count, and each problem a message
that names the node and says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.core.bulk import collector_paused
from studio.core.errors import StudioError
from studio.core.graph import Edge, Graph
from studio.core.shapes import TensorShape
from studio.spec.roles import ROLE_INPUT, ROLE_OUTPUT

ERROR = "error"
WARNING = "warning"
NOTE = "note"  # worth knowing, stops nothing (a graph for inference only has no loss)

# Problems that stop training but not building, running or exporting the graph.
TRAINING_ONLY = ("no_loss", "nothing_to_train")

BYTES_PER_VALUE = 4  # float32


@dataclass
class NodeInfo:
    inputs: dict[str, TensorShape] = field(default_factory=dict)
    outputs: dict[str, TensorShape] = field(default_factory=dict)
    params: int = 0
    flops: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Problem:
    code: str  # cycle, unconnected_input, not_connected, dead_end, no_input, no_loss, nothing_to_train, shape
    message: str
    node: str | None = None
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.node}: " if self.node else ""
        return f"{self.severity}: {where}{self.message}"

    def to_json(self) -> dict:
        return {"severity": self.severity, "code": self.code, "node": self.node, "message": self.message}


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    problems: list[Problem]
    order: list[str]
    # Nodes whose result reaches an Output or loss: only these are compiled, so a
    # half-built branch beside a working network is a warning, not a blocker.
    live: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def build_errors(self) -> list[Problem]:
        """Errors that stop the graph from becoming a module (a missing loss only stops training)."""
        return [p for p in self.errors if p.code not in TRAINING_ONLY]

    @property
    def training_blockers(self) -> list[Problem]:
        """What stands in the way of training: every error, and a missing loss even where
        it is only a note (a graph made for inference)."""
        return [p for p in self.problems if p.severity == ERROR or p.code in TRAINING_ONLY]

    @property
    def ready(self) -> bool:
        """True when nothing stands in the way of training."""
        return not self.training_blockers

    @property
    def inference_ready(self) -> bool:
        """True when the graph runs and exports (it may still lack what training needs)."""
        return not self.build_errors

    @property
    def total_params(self) -> int:
        return sum(i.params for i in self.nodes.values())

    @property
    def total_flops(self) -> int:
        return sum(i.flops for i in self.nodes.values())

    def problems_of(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node == node_id]

    def edge_shape(self, edge: Edge) -> TensorShape | None:
        info = self.nodes.get(edge.src)
        return info.outputs.get(edge.src_port) if info else None

    def activation_values(self) -> int:
        """Values per sample held by every node output (what backward keeps alive)."""
        return sum(s.numel() for info in self.nodes.values() for s in info.outputs.values())

    def memory_bytes(self, batch_size: int, optimizer_slots: int = 2) -> int:
        """Rough training memory: activations and their gradients for the batch, plus
        weights, gradients and the optimizer's per-weight state (2 slots for Adam)."""
        acts = 2 * self.activation_values() * batch_size
        weights = (2 + optimizer_slots) * self.total_params
        return (acts + weights) * BYTES_PER_VALUE


def analyze(graph: Graph) -> Analysis:
    """One pass over the graph in topological order: linear in nodes and wires."""
    with collector_paused():
        return _analyze(graph)


def _analyze(graph: Graph) -> Analysis:
    order, cyclic = graph.topological_order()
    problems: list[Problem] = []
    infos: dict[str, NodeInfo] = {}
    specs = {n.id: graph.spec(n) for n in graph}

    live = _live_nodes(graph, specs)

    def severity(node_id: str) -> str:
        return ERROR if node_id in live else WARNING

    if cyclic:
        problems.append(Problem("cycle", "these nodes form a cycle: " + ", ".join(cyclic) +
                                "; remove one of their wires", cyclic[0]))
        for n in cyclic:
            infos[n] = NodeInfo(error="part of a cycle")

    for node_id in order:
        node = graph.node(node_id)
        spec = specs[node_id]
        info = infos[node_id] = NodeInfo()
        ins: dict[str, TensorShape] = {}
        blocked = False
        wired = set()
        for e in graph.edges_in(node_id):
            wired.add(e.dst_port)
            shape = infos[e.src].outputs.get(e.src_port)
            if shape is None:
                blocked = True
            else:
                ins[e.dst_port] = shape
        missing = [p.name for p in spec.input_ports(node.params) if not p.optional and p.name not in wired]
        info.inputs = ins
        if missing:
            problems.append(Problem("unconnected_input", "input " + ", ".join(missing) +
                                    (" is" if len(missing) == 1 else " are") + " not connected", node_id,
                                    severity(node_id)))
        if missing or blocked:
            info.error = "inputs unknown"
            continue
        try:
            outs = dict(spec.infer(node.params, ins))
            cost = spec.cost(node.params, ins, outs)
        except Exception as exc:  # StudioError, or a plugin's rule that crashed: report, stay up
            info.error = _rule_failure(spec, exc)
            # A shape that does not fit is an error wherever it is: the branch is wrong
            # now, even before it reaches a loss.
            problems.append(Problem("shape", info.error, node_id, ERROR))
            continue
        info.outputs = outs
        info.params, info.flops = cost.params, cost.flops

    _structure_problems(graph, problems, live, specs)
    _trainable_problem(graph, problems, live, infos, specs)
    return Analysis(infos, problems, order, live)


def _live_nodes(graph: Graph, specs: dict) -> set[str]:
    """Nodes from which an Output or loss node can be reached (those included)."""
    reaches = {n for n, spec in specs.items() if spec.role == ROLE_OUTPUT}
    stack = list(reaches)
    while stack:
        n = stack.pop()
        for e in graph.edges_in(n):
            if e.src not in reaches:
                reaches.add(e.src)
                stack.append(e.src)
    return reaches


def _structure_problems(graph: Graph, problems: list[Problem], reaches: set[str], specs: dict) -> None:
    roles = {n: spec.role for n, spec in specs.items()}
    if not any(r == ROLE_INPUT for r in roles.values()):
        problems.append(Problem("no_input", "the graph has no Input node"))
    losses = [n for n, spec in specs.items() if spec.loss is not None]
    if not losses:
        if any(r == ROLE_OUTPUT for r in roles.values()):
            # Outputs without a loss: a model for inference (an imported one, say) runs and
            # exports as it is; only training needs the loss.
            problems.append(Problem("no_loss", "no loss: ready for inference and export; to train it, add a loss "
                                    "(e.g. Cross-entropy loss) on an output", severity=NOTE))
        else:
            problems.append(Problem("no_loss", "the graph has no loss node, so it cannot be trained: "
                                    "add one (e.g. Cross-entropy loss) after the last layer"))
    # Nodes from which no output or loss can be reached compute nothing that is used.
    for n in graph:
        if n.id in reaches:
            continue
        if not graph.edges_of(n.id) and len(graph) > 1:
            problems.append(Problem("not_connected", "not connected to anything", n.id, WARNING))
        elif roles[n.id] != ROLE_OUTPUT:
            problems.append(Problem("dead_end", "its result reaches no output or loss", n.id, WARNING))


def _trainable_problem(graph: Graph, problems: list[Problem], live: set[str], infos: dict, specs: dict) -> None:
    """Training needs at least one weight that is not frozen among the nodes that run."""
    weighted = [n for n in live if infos.get(n) is not None and infos[n].params > 0]
    if not weighted or not any(specs[n].loss is not None for n in live):
        return
    if all(graph.node(n).frozen for n in weighted):
        problems.append(Problem(
            "nothing_to_train", "every layer with weights is frozen, so training has nothing to learn: "
            "unfreeze at least one (untick Frozen in the inspector, or set \"frozen\": false "
            "on it in the project file)"))


def _rule_failure(spec, exc: Exception) -> str:
    return str(exc) if isinstance(exc, StudioError) else f"shape rule of {spec.id} failed: {exc!r}"


def wire_shape_problem(graph: Graph, analysis: Analysis, src: str, src_port: str, dst: str, dst_port: str
                       ) -> str | None:
    """Why a wire from ``src.src_port`` into ``dst.dst_port`` would not fit, or None: the
    target's shape rule run on the inputs it would have, not a new analysis, so it is cheap
    enough for every mouse move of a drag. None too while the answer is unknown (an input
    without a shape yet, another required input still unwired)."""
    shape = analysis.nodes[src].outputs.get(src_port) if src in analysis.nodes else None
    if shape is None or dst not in graph:
        return None
    node = graph.node(dst)
    spec = graph.spec(node)
    info = analysis.nodes.get(dst)
    ins = dict(info.inputs) if info is not None else {}
    ins[dst_port] = shape
    if any(not p.optional and p.name not in ins for p in spec.input_ports(node.params)):
        return None
    try:
        spec.infer(node.params, ins)
    except Exception as exc:
        return _rule_failure(spec, exc)
    return None


def fitting_losses(graph: Graph, analysis: Analysis) -> list[tuple[str, str, str]]:
    """For a graph with outputs but no loss: ``(output node, loss layer id, why)`` for each
    Output, the loss that fits what comes out of it: class scores on the last axis (more
    than one) take a classification loss, anything else a regression loss. Losses are
    found by the task they declare, not by name."""
    by_task: dict[str, str] = {}
    for spec in graph.registry:
        task = spec.loss.task if spec.loss is not None else None
        if task and task not in by_task:
            by_task[task] = spec.id
    out = []
    for node in graph:
        if graph.spec(node).role != ROLE_OUTPUT or graph.spec(node).loss is not None:
            continue
        shape = analysis.nodes[node.id].inputs.get("in") if node.id in analysis.nodes else None
        if shape is None:
            continue
        last = shape.dims[-1] if shape.dims else None
        task = "classification" if isinstance(last, int) and last > 1 and len(shape.dims) in (2, 3) else "regression"
        if task in by_task:
            why = f"{shape} holds class scores" if task == "classification" else f"{shape} holds values"
            out.append((node.id, by_task[task], why))
    return out
