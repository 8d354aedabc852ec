"""What every exporter shares: the pre-flight, the compiled module with its weights,
the real batch a check runs on, and which axes may vary.

An export analyses the graph once (:func:`prepare`): the pre-flight reads that analysis,
the module is compiled from the plan made of it, and the code generator prints the same
plan. Only a what-if is analysed apart: whether a fixed-length sequence input would
accept any length (:func:`dynamic_axes`), once per such input and export."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.compile.module import CompileError, GraphModule, compile_graph
from studio.core.analysis import Analysis, analyze
from studio.core.graph import Graph
from studio.export.errors import ExportError
from studio.spec.inputs import input_kind
from studio.spec.roles import ROLE_INPUT



@dataclass(frozen=True)
class Blocker:
    """A reason the graph cannot be exported, tied to a node where there is one."""

    node: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.node}: {self.message}" if self.node else self.message


def preflight(graph: Graph, onnx: bool = True, analysis: Analysis | None = None) -> list[Blocker]:
    """Everything that stops an export, found before any tracing starts."""
    analysis = analysis or analyze(graph)
    blockers = [Blocker(p.node, p.message) for p in analysis.build_errors]
    if onnx:
        for node in graph:
            spec = graph.spec(node)
            if node.id in analysis.live and not spec.onnx_exportable:
                why = spec.export_notes or "its layer type declares that it has no ONNX form"
                blockers.append(Blocker(node.id, f"{spec.title} cannot be exported to ONNX: {why}"))
    return blockers


def check_preflight(graph: Graph, onnx: bool = True, analysis: Analysis | None = None) -> None:
    blockers = preflight(graph, onnx, analysis)
    if blockers:
        raise ExportError("cannot export: " + "; ".join(str(b) for b in blockers))


def prepare(graph: Graph, *, onnx: bool, weights=None, module: GraphModule | None = None) -> GraphModule:
    """The pre-flight, then the module to export (``module`` if given), in eval mode, from
    one analysis: a given module's own (the one its plan was made of), else the graph's."""
    analysis = module.plan.analysis if isinstance(module, GraphModule) else analyze(graph)
    check_preflight(graph, onnx, analysis)
    return (module or build_module(graph, weights, analysis)).eval()


def build_module(graph: Graph, weights: str | Path | dict | None = None,
                 analysis: Analysis | None = None) -> GraphModule:
    """The compiled module the trainer uses, in eval mode, with ``weights`` loaded if given."""
    from studio.export.weights import load_into, read_state_dict

    try:
        module = compile_graph(graph, analysis)
    except CompileError as exc:
        raise ExportError(str(exc)) from None
    if weights is not None:
        state = weights if isinstance(weights, dict) else read_state_dict(weights)
        load_into(module, state, str(weights) if not isinstance(weights, dict) else "the weights")
    return module.eval()


@dataclass
class Sample:
    inputs: tuple[torch.Tensor, ...]
    source: str  # "validation data of digits", or why random inputs were used
    extra: list[tuple[str, tuple[torch.Tensor, ...]]] = field(default_factory=list)


def sample_inputs(module: GraphModule, data: dict | None, graph: Graph, n: int = 8,
                  axes: dict[str, list[int]] | None = None) -> Sample:
    """A real batch from the project's dataset when it loads, else random inputs of the
    right shapes; plus a second batch size and, for variable axes (``axes``, from
    :func:`dynamic_axes` when not given), a second length."""
    inputs, source = None, ""
    if data and data.get("dataset"):
        try:
            inputs = _real_batch(module, data, n)
            source = f"{n} samples of the {data['dataset']} dataset"
        except Exception as exc:  # any dataset problem: fall back, and say so
            source = f"random inputs (dataset {data.get('dataset')!r} did not load: {exc})"
    if inputs is None:
        gen = torch.Generator().manual_seed(0)
        inputs = tuple(_random_like(s, n, gen, graph, name) for s, name in zip(module.input_shapes, module.input_names))
        source = source or "random inputs (the project names no dataset)"
    sample = Sample(inputs, source)
    small = tuple(x[: max(1, min(3, x.shape[0] - 1))] for x in inputs)
    sample.extra.append((f"batch {small[0].shape[0]}", small))
    axes = dynamic_axes(module, graph) if axes is None else axes
    grown = [(name, a[1]) for name, a in axes.items() if len(a) > 1]
    if grown:
        longer = tuple(_longer(x, axes[name][1]) if len(axes[name]) > 1 else x
                       for x, name in zip(small, module.input_names))
        first, axis = grown[0]
        length = longer[module.input_names.index(first)].shape[axis]
        sample.extra.append((f"batch {small[0].shape[0]}, length {length}", longer))
    return sample


def _longer(x: torch.Tensor, axis: int) -> torch.Tensor:
    """``x`` with half its length along ``axis`` repeated at the end."""
    return torch.cat([x, x.narrow(axis, 0, max(1, x.shape[axis] // 2))], dim=axis)


def _real_batch(module: GraphModule, data: dict, n: int) -> tuple[torch.Tensor, ...]:
    from studio.data.registry import load_data

    split = load_data(data, seed=0, val_split=0.2)
    source = split.val if split.val is not None and len(split.val) > 0 else split.train
    count = min(n, len(source))
    if hasattr(source, "fields"):
        fields = {k: v[:count] for k, v in source.fields.items()}
    else:
        items = [source[i] for i in range(count)]
        fields = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    out = []
    for name, field_name, shape in zip(module.input_names, module.input_fields, module.input_shapes):
        if field_name not in fields:
            raise ExportError(f"input {name} reads field {field_name!r}, which the dataset lacks")
        x = fields[field_name]
        out.append(x.long() if shape.dtype == "long" else x.float())
    return tuple(out)


def _kind(graph: Graph, input_id: str):
    """The declared kind of an Input node (:mod:`studio.spec.inputs`), or None."""
    from studio.spec.inputs import KIND_NAMES

    name = graph.node(input_id).params.get("kind")
    return input_kind(name) if name in KIND_NAMES else None


def _random_like(shape, n: int, gen: torch.Generator, graph: Graph, name: str) -> torch.Tensor:
    dims = [n if i == 0 else (d if isinstance(d, int) else 12) for i, d in enumerate(shape.dims)]
    kind = _kind(graph, name)
    if kind is not None and kind.example is not None:
        return kind.example(dims, gen, _id_limit(graph, name))
    if shape.dtype == "long":
        return torch.randint(0, _id_limit(graph, name), dims, generator=gen)
    return torch.randn(dims, generator=gen)


def _id_limit(graph: Graph, input_id: str) -> int:
    """The smallest id limit among the layers an input feeds (an Embedding's vocabulary,
    as its declaration names it), so random ids are valid."""
    sizes = []
    for e in graph.edges:
        if e.src == input_id:
            limit = graph.spec(e.dst).id_limit
            if limit is not None:
                sizes.append(graph.node(e.dst).params[limit])
    return min(sizes, default=2)


def dynamic_axes(module: GraphModule, graph: Graph) -> dict[str, list[int]]:
    """Axes of each input that may vary in the exported model: the batch always; the
    length axis its input kind declares (sequences, tokens, audio) when the graph accepts
    any length."""
    free_length = _length_free(graph)
    axes = {}
    for name, shape in zip(module.input_names, module.input_shapes):
        kind = _kind(graph, name)
        a = [0]
        axis = kind.length_axis if kind is not None else None
        if axis is not None and shape.rank > axis:
            if not isinstance(shape.dims[axis], int) or name in free_length:
                a.append(axis)
        axes[name] = a
    return axes


def _length_free(graph: Graph) -> set[str]:
    """Inputs declared with a fixed length whose graph would accept any length (an LSTM
    does; a Flatten after it does not): their length stays dynamic in the export."""
    fixed = [n for n in graph if graph.spec(n).role == ROLE_INPUT and n.params.get("length", 0) > 0
             and (kind := _kind(graph, n.id)) is not None and kind.length_axis is not None]
    free = set()
    for node in fixed:
        trial = graph.copy()
        trial.node(node.id).params = {**node.params, "length": 0}
        if not analyze(trial).build_errors:
            free.add(node.id)
    return free


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence what torch's exporters print from C++ (graph dumps when tracing fails, notes);
    a failure still reaches the person as one clear message. For single-threaded callers
    (the command line, benchmarks): it redirects the process's stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
