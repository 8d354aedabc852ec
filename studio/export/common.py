"""What every exporter shares: the pre-flight, the compiled module with its weights,
the real batch a check runs on, and which axes may vary."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.compile.module import CompileError, GraphModule, compile_graph
from studio.core.analysis import analyze
from studio.core.graph import Graph
from studio.export.errors import ExportError
from studio.layers.spec import ROLE_INPUT

SEQUENCE_KINDS = ("sequence", "tokens", "waveform")


@dataclass(frozen=True)
class Blocker:
    """A reason the graph cannot be exported, tied to a node where there is one."""

    node: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.node}: {self.message}" if self.node else self.message


def preflight(graph: Graph, onnx: bool = True) -> list[Blocker]:
    """Everything that stops an export, found before any tracing starts."""
    analysis = analyze(graph)
    blockers = [Blocker(p.node, p.message) for p in analysis.build_errors]
    if onnx:
        for node in graph:
            spec = graph.spec(node)
            if node.id in analysis.live and not spec.onnx_exportable:
                why = spec.export_notes or "its layer type declares that it has no ONNX form"
                blockers.append(Blocker(node.id, f"{spec.title} cannot be exported to ONNX: {why}"))
    return blockers


def check_preflight(graph: Graph, onnx: bool = True) -> None:
    blockers = preflight(graph, onnx)
    if blockers:
        raise ExportError("cannot export: " + "; ".join(str(b) for b in blockers))


def build_module(graph: Graph, weights: str | Path | dict | None = None) -> GraphModule:
    """The compiled module the trainer uses, in eval mode, with ``weights`` loaded if given."""
    from studio.export.weights import load_into, read_state_dict

    try:
        module = compile_graph(graph)
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


def sample_inputs(module: GraphModule, data: dict | None, graph: Graph, n: int = 8) -> Sample:
    """A real batch from the project's dataset when it loads, else random inputs of the
    right shapes; plus a second batch size and, for variable axes, a second length."""
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
    axes = dynamic_axes(module, graph)
    if any(1 in a for a in axes.values()):
        longer = tuple(torch.cat([x, x[:, : max(1, x.shape[1] // 2)]], dim=1) if 1 in axes[name] else x
                       for x, name in zip(small, module.input_names))
        sample.extra.append((f"batch {small[0].shape[0]}, length {longer[0].shape[1]}", longer))
    return sample


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


def _random_like(shape, n: int, gen: torch.Generator, graph: Graph, name: str) -> torch.Tensor:
    dims = [n if i == 0 else (d if isinstance(d, int) else 12) for i, d in enumerate(shape.dims)]
    if shape.dtype == "long":
        return torch.randint(0, _vocab(graph, name), dims, generator=gen)
    return torch.randn(dims, generator=gen)


def _vocab(graph: Graph, input_id: str) -> int:
    """The smallest vocabulary among the Embeddings an input feeds, so random ids are valid."""
    sizes = [graph.node(e.dst).params["num_embeddings"] for e in graph.edges
             if e.src == input_id and graph.node(e.dst).type == "Embedding"]
    return min(sizes, default=2)


def dynamic_axes(module: GraphModule, graph: Graph) -> dict[str, list[int]]:
    """Axes of each input that may vary in the exported model: the batch always; the
    length of a sequence, token or audio input when the graph accepts any length."""
    free_length = _length_free(graph)
    axes = {}
    for name, shape in zip(module.input_names, module.input_shapes):
        node = graph.node(name)
        a = [0]
        if node.params.get("kind") in SEQUENCE_KINDS and shape.rank >= 2:
            if not isinstance(shape.dims[1], int) or name in free_length:
                a.append(1)
        axes[name] = a
    return axes


def _length_free(graph: Graph) -> set[str]:
    """Inputs declared with a fixed length whose graph would accept any length (an LSTM
    does; a Flatten after it does not): their length stays dynamic in the export."""
    fixed = [n for n in graph if graph.spec(n).role == ROLE_INPUT
             and n.params.get("kind") in SEQUENCE_KINDS and n.params.get("length", 0) > 0]
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
