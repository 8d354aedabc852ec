"""The execution plan: the order of evaluation, worked out once from one analysis.

Which nodes run (those whose result reaches an output or loss), in topological order;
which value each of their inputs reads; which values the model takes and returns. Every
value has a slot number: the model's inputs first, in the order their nodes were added
(a stable signature), then each layer's outputs as the plan produces them. The compiled
module (:mod:`studio.compile.module`) runs the plan over a list of slots; the code
generator (:mod:`studio.compile.codegen`) prints it, one line per step. Neither works the
order out again. No torch here: a plan is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio.core.analysis import Analysis, analyze
from studio.core.errors import StudioError
from studio.core.graph import Graph
from studio.core.shapes import TensorShape
from studio.spec.roles import ROLE_INPUT, ROLE_OUTPUT

if TYPE_CHECKING:
    from studio.layers.spec import LayerSpec
    from studio.spec.build import Ctor


class CompileError(StudioError):
    pass


@dataclass(frozen=True)
class PlanInput:
    """One model input: an Input node, the dataset field it reads, its shape."""

    node: str
    field: str
    shape: TensorShape
    slot: int


@dataclass(frozen=True)
class Step:
    """One layer call: ``outputs = layer(*args)``, slots in and out."""

    node: str
    spec: "LayerSpec"
    params: dict[str, Any]
    input_shapes: dict[str, TensorShape]
    # The slot each input port reads, in port order; None for an unwired optional port.
    # Trailing unwired optional ports are left out, so the layer's defaults apply.
    args: tuple[int | None, ...]
    outputs: tuple[tuple[str, int], ...]  # (port, slot) for every output port

    def ctor(self) -> "Ctor":
        return self.spec.build(self.params, self.input_shapes)


@dataclass(frozen=True)
class LossInfo:
    """A loss node's declaration (:class:`~studio.spec.roles.LossRole`) read against its
    parameters: what the trainer needs, with no parameter names left to guess."""

    target: str  # the dataset field holding the targets
    weight: float = 1.0  # this loss's weight in the total
    metric: str = "none"  # the metric scored on validation ("none": none)
    ignore_index: int | None = None  # the label left out of loss and metric
    reduction: str = "mean"  # what the loss module returns over a batch: "mean" or "sum"
    task: str | None = None  # what the predictions are, for evaluation (LossRole.task)

    @classmethod
    def of(cls, role, params: dict) -> "LossInfo":
        return cls(target=str(params[role.target]),
                   weight=float(params[role.weight]) if role.weight else 1.0,
                   metric=str(params[role.metric]) if role.metric else "none",
                   ignore_index=int(params[role.ignore_index]) if role.ignore_index else None,
                   reduction=role.reduction,
                   task=role.task)

    def metric_options(self, params: dict) -> dict:
        """What a metric is built from: the node's parameters, with the declared target
        field and ignored label under their plain names."""
        out = {**params, "target": self.target}
        if self.ignore_index is not None:
            out["ignore_index"] = self.ignore_index
        return out


@dataclass(frozen=True)
class OutputInfo:
    """One model output: the node that marks it, and for a loss, how to score it."""

    node: str  # the Output or loss node
    type: str  # its layer type
    params: dict
    source: str  # "node.port" that feeds it
    loss: LossInfo | None = None  # None for a plain output


@dataclass(frozen=True)
class PlanOutput:
    info: OutputInfo
    slot: int  # the value returned
    shape: TensorShape | None
    scorer: "Step | None"  # a loss node's scoring module, built like a layer; None for an output


@dataclass
class ExecutionPlan:
    analysis: Analysis
    inputs: list[PlanInput]
    steps: list[Step]
    outputs: list[PlanOutput]
    slots: int  # how many values the plan holds at most
    frozen: list[str] = field(default_factory=list)  # layers whose parameters do not train
    lr_scales: dict[str, float] = field(default_factory=dict)  # layer -> multiplier other than 1


def build_plan(graph: Graph, analysis: Analysis | None = None) -> ExecutionPlan:
    """The plan for ``graph``, from ``analysis`` when given (it must be of this graph as
    it is now); raises :class:`CompileError` when the graph cannot become a module."""
    analysis = analysis or analyze(graph)
    if analysis.build_errors:
        raise CompileError("the graph has problems: " + "; ".join(str(p) for p in analysis.build_errors))
    live = analysis.live
    slots: dict[tuple[str, str], int] = {}

    def slot(key: tuple[str, str]) -> int:
        return slots.setdefault(key, len(slots))

    inputs = []
    for node in graph.nodes:  # in the order they were added: a stable signature
        if node.id in live and graph.spec(node).role == ROLE_INPUT:
            inputs.append(PlanInput(node.id, node.params.get("field", node.id),
                                    analysis.nodes[node.id].outputs["out"], slot((node.id, "out"))))

    steps = []
    for node_id in analysis.order:
        if node_id not in live:
            continue
        node = graph.node(node_id)
        spec = graph.spec(node)
        if spec.role in (ROLE_INPUT, ROLE_OUTPUT):
            continue
        args: list[int | None] = []
        for port in spec.input_ports(node.params):
            e = graph.edge_into(node_id, port.name)
            args.append(slot((e.src, e.src_port)) if e is not None else None)
        while args and args[-1] is None:
            args.pop()
        outs = tuple((p.name, slot((node_id, p.name))) for p in spec.output_ports(node.params))
        steps.append(Step(node_id, spec, dict(node.params), analysis.nodes[node_id].inputs, tuple(args), outs))

    outputs = []
    for node in graph.nodes:  # outputs, too, in the order they were added
        spec = graph.spec(node)
        if spec.role != ROLE_OUTPUT:
            continue
        edge = graph.edge_into(node.id, "in")
        loss = LossInfo.of(spec.loss, node.params) if spec.loss is not None else None
        info = OutputInfo(node.id, node.type, dict(node.params), f"{edge.src}.{edge.src_port}", loss)
        scorer = None if loss is None else Step(node.id, spec, dict(node.params), analysis.nodes[node.id].inputs, (), ())
        outputs.append(PlanOutput(info, slots[(edge.src, edge.src_port)], analysis.edge_shape(edge), scorer))

    ran = {s.node for s in steps}
    return ExecutionPlan(
        analysis, inputs, steps, outputs, len(slots),
        frozen=[n.id for n in graph.nodes if n.frozen and n.id in ran],
        lr_scales={n.id: n.lr_scale for n in graph.nodes if n.id in ran and n.lr_scale != 1.0},
    )
