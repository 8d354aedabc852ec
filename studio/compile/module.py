"""Compile a graph into one ``torch.nn.Module``.

Each node becomes a submodule named after the node; ``forward`` takes the Input nodes'
tensors in graph order and runs the :class:`~studio.compile.plan.ExecutionPlan` (built
once, from one analysis) as a short loop over value slots, so the per-batch Python work
is small. The trainer and every exporter use this module.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.compile.plan import CompileError, ExecutionPlan, LossInfo, OutputInfo, build_plan
from studio.core.analysis import Analysis
from studio.core.graph import Graph

__all__ = ["CompileError", "GraphModule", "LossInfo", "OutputInfo", "compile_graph"]


class GraphModule(nn.Module):
    """The compiled network. ``forward(*inputs)`` returns one tensor per output
    (a tuple when there are several), in :attr:`output_names` order."""

    def __init__(self, graph: Graph, analysis: Analysis | None = None, plan: ExecutionPlan | None = None) -> None:
        super().__init__()
        plan = plan or build_plan(graph, analysis)
        self.plan = plan  # what the code generator prints for this very module
        self.layers = nn.ModuleDict()
        self.losses = nn.ModuleDict()
        for step in plan.steps:
            try:
                self.layers[step.node] = step.ctor().create()
            except Exception as exc:
                raise CompileError(f"{step.node}: building {step.spec.id} failed: {exc}") from exc
        for out in plan.outputs:
            if out.scorer is not None:
                self.losses[out.info.node] = out.scorer.ctor().create()
        self.input_names = [i.node for i in plan.inputs]
        self.input_fields = [i.field for i in plan.inputs]
        self.input_shapes = [i.shape for i in plan.inputs]
        self.outputs: list[OutputInfo] = [o.info for o in plan.outputs]
        self.output_shapes = [o.shape for o in plan.outputs]
        self.frozen_nodes = list(plan.frozen)
        self.lr_scales = dict(plan.lr_scales)
        self._n_inputs = len(plan.inputs)
        self._n_slots = plan.slots
        self._plan = [(self.layers[s.node], s.args, tuple(slot for _, slot in s.outputs), len(s.outputs) > 1)
                      for s in plan.steps]
        self._out_slots = [o.slot for o in plan.outputs]

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


def compile_graph(graph: Graph, analysis: Analysis | None = None, plan: ExecutionPlan | None = None) -> GraphModule:
    return GraphModule(graph, analysis, plan)
