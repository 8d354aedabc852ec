"""Compile a graph into one ``torch.nn.Module``.

Each node becomes a submodule named after the node; ``forward`` takes the Input nodes'
tensors in graph order and runs a precomputed plan in topological order, so the per-batch
Python work is a short loop over slots. The trainer and every exporter use this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from studio.core.analysis import Analysis, analyze
from studio.core.errors import StudioError
from studio.core.graph import Graph
from studio.layers.spec import ROLE_INPUT, ROLE_OUTPUT


class CompileError(StudioError):
    pass


@dataclass(frozen=True)
class LossInfo:
    """A loss node's declaration (:class:`~studio.spec.roles.LossRole`) read against its
    parameters: what the trainer needs, with no parameter names left to guess."""

    target: str  # the dataset field holding the targets
    weight: float = 1.0  # this loss's weight in the total
    metric: str = "none"  # the metric scored on validation ("none": none)
    ignore_index: int | None = None  # the label left out of loss and metric

    @classmethod
    def of(cls, role, params: dict) -> "LossInfo":
        return cls(target=str(params[role.target]),
                   weight=float(params[role.weight]) if role.weight else 1.0,
                   metric=str(params[role.metric]) if role.metric else "none",
                   ignore_index=int(params[role.ignore_index]) if role.ignore_index else None)

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


class GraphModule(nn.Module):
    """The compiled network. ``forward(*inputs)`` returns one tensor per output
    (a tuple when there are several), in :attr:`output_names` order."""

    def __init__(self, graph: Graph, analysis: Analysis | None = None) -> None:
        super().__init__()
        analysis = analysis or analyze(graph)
        if analysis.build_errors:
            raise CompileError("the graph has problems: " + "; ".join(str(p) for p in analysis.build_errors))
        self.layers = nn.ModuleDict()
        self.losses = nn.ModuleDict()
        self.input_names: list[str] = []
        self.input_fields: list[str] = []
        self.outputs: list[OutputInfo] = []
        slots: dict[tuple[str, str], int] = {}
        plan: list[tuple[str, tuple[int | None, ...], tuple[int, ...]]] = []

        def slot(key: tuple[str, str]) -> int:
            if key not in slots:
                slots[key] = len(slots)
            return slots[key]

        live = analysis.live
        for node in graph.nodes:  # inputs in the order they were added: a stable signature
            node_id = node.id
            spec = graph.spec(node)
            if spec.role == ROLE_INPUT and node_id in live:
                self.input_names.append(node_id)
                self.input_fields.append(node.params.get("field", node_id))
                slot((node_id, "out"))
        self._n_inputs = len(self.input_names)

        for node_id in analysis.order:
            node = graph.node(node_id)
            spec = graph.spec(node)
            if spec.role == ROLE_INPUT or node_id not in live:
                continue
            ins = analysis.nodes[node_id].inputs
            if spec.role == ROLE_OUTPUT:
                continue
            try:
                module = spec.build(node.params, ins).create()
            except Exception as exc:
                raise CompileError(f"{node_id}: building {spec.id} failed: {exc}") from exc
            self.layers[node_id] = module
            in_slots = []
            for port in spec.input_ports(node.params):
                e = graph.edge_into(node_id, port.name)
                in_slots.append(slot((e.src, e.src_port)) if e is not None else None)
            while in_slots and in_slots[-1] is None:
                in_slots.pop()  # trailing optional inputs left out: the module's defaults apply
            out_slots = tuple(slot((node_id, p.name)) for p in spec.output_ports(node.params))
            plan.append((node_id, tuple(in_slots), out_slots))

        for node in graph.nodes:  # outputs, too, in the order they were added
            spec = graph.spec(node)
            if spec.role != ROLE_OUTPUT:
                continue
            edge = graph.edge_into(node.id, "in")
            loss = LossInfo.of(spec.loss, node.params) if spec.loss is not None else None
            self.outputs.append(OutputInfo(node.id, node.type, dict(node.params), f"{edge.src}.{edge.src_port}", loss))
            if loss is not None:
                self.losses[node.id] = spec.build(node.params, analysis.nodes[node.id].inputs).create()

        self._plan = [(self.layers[n], ins, outs, len(outs) > 1) for n, ins, outs in plan]
        self._out_slots = [slots[tuple(o.source.rsplit(".", 1))] for o in self.outputs]
        self._n_slots = len(slots)
        self.frozen_nodes = [n.id for n in graph.nodes if n.frozen and n.id in self.layers]
        self.lr_scales = {n.id: n.lr_scale for n in graph.nodes if n.id in self.layers and n.lr_scale != 1.0}
        self.output_shapes = [analysis.edge_shape(graph.edge_into(o.node, "in")) for o in self.outputs]
        self.input_shapes = [analysis.nodes[n].outputs["out"] for n in self.input_names]

    @property
    def output_names(self) -> list[str]:
        return [o.node for o in self.outputs]

    def forward(self, *inputs: torch.Tensor):
        if len(inputs) != self._n_inputs:
            raise TypeError(f"expected {self._n_inputs} input(s) {self.input_names}, got {len(inputs)}")
        values: list = [None] * self._n_slots
        values[: self._n_inputs] = inputs
        for module, in_slots, out_slots, multi in self._plan:
            result = module(*[None if s is None else values[s] for s in in_slots])
            if multi:
                for s, v in zip(out_slots, result):
                    values[s] = v
            else:
                values[out_slots[0]] = result
        outs = [values[s] for s in self._out_slots]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def example_inputs(self, batch: int = 2, symbols: dict[str, int] | None = None,
                       zeros: bool = False) -> tuple[torch.Tensor, ...]:
        """Random inputs of the inferred shapes (symbolic lengths become ``symbols`` or 8);
        with ``zeros``, zeros, which leave the random number generator alone."""
        symbols = {"B": batch, **(symbols or {})}
        xs = []
        for shape in self.input_shapes:
            dims = [d if isinstance(d, int) else symbols.get(d, 8) for d in shape.dims]
            if shape.dtype == "long" or zeros:
                xs.append(torch.zeros(dims, dtype=torch.long if shape.dtype == "long" else torch.float32))
            else:
                xs.append(torch.randn(dims))
        return tuple(xs)


def compile_graph(graph: Graph, analysis: Analysis | None = None) -> GraphModule:
    return GraphModule(graph, analysis)
