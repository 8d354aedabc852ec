"""ONNX import: an ONNX graph becomes an editable Layer Studio graph with its weights.

Operators are mapped onto registry layers (:mod:`studio.export.onnx_ops`); initializers
become the compiled module's weights (``layers.<node>.<param>``). The operators that
only compute shapes for a Reshape or an LSTM's zero state are folded into parameters.
An operator with no mapping is never dropped: the import is refused with the list of
every operator that would fail, by name and count. Nothing in the file is executed, and
no tensor is read from outside it. Every import is verified: onnxruntime runs the source
file and the imported graph runs on the same random inputs, within the export check's
tolerance (:mod:`studio.export.tolerance`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from studio.core.analysis import analyze
from studio.core.bulk import collector_paused
from studio.core.files import NotReadable, read_regular
from studio.core.graph import NODE_ID, Graph
from studio.core.layout import apply_layout
from studio.core.project import Project, weights_beside
from studio.export.errors import ImportModelError
from studio.export.onnx_constants import constant_value, fold, tensor_dims
from studio.export.onnx_ops import DATA_INPUTS, HANDLERS, Unmapped, Val
from studio.export.tolerance import TOLERANCE, allowed, difference

MAX_BYTES = 2 * 1024**3


@dataclass
class ImportResult:
    project: Project
    state: dict[str, torch.Tensor]
    folded: dict[str, int] = field(default_factory=dict)  # shape-only operators folded away, by type
    check: Verification | None = None  # the imported graph against onnxruntime on the source file

    def weights_path(self, project_path: str | Path) -> Path:
        return weights_beside(project_path)

    def save(self, project_path: str | Path) -> tuple[Path, Path]:
        """Write the project and its weights (``<name>.weights.safetensors`` beside it)."""
        from studio.export.weights import save_weights

        with collector_paused():
            weights = save_weights(self.state, self.weights_path(project_path))
            return self.project.save(project_path), weights


@dataclass(frozen=True)
class Verification:
    """The imported graph and onnxruntime on the source file, run on the same random inputs."""

    inputs: str  # what they were, e.g. "a batch of 8 random samples"
    max_abs: float
    max_rel: float
    worst: str  # the output that differs most, relative to its size
    runner: str = "onnxruntime"  # what ran the source file

    def __str__(self) -> str:
        return (f"matches {self.runner} on the source file: largest difference {self.max_abs:.3g} "
                f"(relative {self.max_rel:.3g}, at {self.worst}) on {self.inputs}")


@dataclass
class OnnxFile:
    """A parsed, checked ONNX file: the model, the bytes it came from (onnxruntime runs
    them as they are), and a copy without its large weights, with inferred shapes."""

    path: Path
    model: object
    raw: bytes
    shapes: object  # the weightless copy after shape inference (value_info)


def read_model(path: str | Path):
    """Parse and validate an ONNX file; raises :class:`ImportModelError` naming the file."""
    return open_model(path).model


def open_model(path: str | Path) -> OnnxFile:
    """Read, parse and check an ONNX file; raises :class:`ImportModelError` naming the file."""
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    try:
        raw = read_regular(path, MAX_BYTES, "ONNX model")
    except NotReadable as exc:
        raise ImportModelError(f"{path}: {exc.reason}") from None
    except FileNotFoundError:
        raise ImportModelError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportModelError(f"{path}: is a folder, not an ONNX file") from None
    except OSError as exc:
        raise ImportModelError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        model = onnx.load_from_string(raw)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ImportModelError(f"{path}: not a valid ONNX file; it may be truncated or corrupt ({exc})") from None
    if not model.ir_version or not model.graph.node:
        raise ImportModelError(f"{path}: holds no ONNX graph; it may be truncated or not an ONNX file")
    # Every tensor is looked at before any is read: one with external data would be read
    # from a path the file chooses, relative to wherever the importer happens to run.
    for tensor, where in _tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            raise ImportModelError(f"{path}: {where} keeps its values in an external data file; "
                                   "Layer Studio reads only self-contained ONNX files (re-save the model as one file)")
        if tensor.data_type not in _READABLE:
            kind = onnx.TensorProto.DataType.Name(tensor.data_type) \
                if tensor.data_type in onnx.TensorProto.DataType.values() else f"type {tensor.data_type}"
            raise ImportModelError(f"{path}: {where} holds {kind} values, which Layer Studio cannot read")
    skeleton = _weightless(model, path)
    try:
        onnx.checker.check_model(skeleton)
    except Exception as exc:
        raise ImportModelError(f"{path}: the ONNX checker rejects this model: {_first_line(exc)}") from None
    try:
        shapes = onnx.shape_inference.infer_shapes(skeleton, data_prop=True)
    except Exception:  # shapes help with Reshape and a few others; go on without them
        shapes = skeleton
    return OnnxFile(path, model, raw, shapes)


LARGE = 1 << 16  # bytes: initializers above this are weights, left out of the checked copy


def _weightless(model, path: Path):
    """The model with its large initializers turned into typed graph inputs: the same graph
    for the checker and shape inference, without serialising hundreds of megabytes for each.
    (Their sizes are checked when they are read.)"""
    import onnx
    from onnx import helper

    skeleton = onnx.ModelProto()
    for name in ("ir_version", "producer_name", "producer_version", "domain", "model_version"):
        setattr(skeleton, name, getattr(model, name))
    skeleton.opset_import.extend(model.opset_import)
    skeleton.functions.extend(model.functions)
    g, src = skeleton.graph, model.graph
    g.name = src.name
    for field_name in ("node", "input", "output", "value_info", "sparse_initializer"):
        getattr(g, field_name).extend(getattr(src, field_name))
    declared = {vi.name for vi in src.input}
    for t in src.initializer:
        if int(np.prod(t.dims, dtype=np.int64)) * 4 <= LARGE:
            g.initializer.append(t)
            continue
        if t.name not in declared:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    return skeleton


# FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, BOOL, FLOAT16, DOUBLE, UINT32, UINT64
_READABLE = frozenset((1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13))


def _tensors(model):
    """Every tensor a model holds, with where it is: initializers, sparse initializers,
    tensor attributes (Constant values among them) and the same in every subgraph and function."""
    def in_graph(graph, prefix):
        for t in graph.initializer:
            yield t, f"{prefix}initializer {_short(t.name)}"
        for i, sp in enumerate(graph.sparse_initializer):
            yield from _sparse(sp, f"{prefix}sparse initializer {_short(sp.values.name) or i}")
        yield from in_nodes(graph.node, prefix)

    def in_nodes(nodes, prefix):
        for node in nodes:
            here = f"{prefix}node {_short(node.name or node.output[0] if node.output else node.op_type)}"
            for a in node.attribute:
                if a.HasField("t"):
                    yield a.t, f"{here} attribute {a.name}"
                for t in a.tensors:
                    yield t, f"{here} attribute {a.name}"
                if a.HasField("sparse_tensor"):
                    yield from _sparse(a.sparse_tensor, f"{here} attribute {a.name}")
                for sp in a.sparse_tensors:
                    yield from _sparse(sp, f"{here} attribute {a.name}")
                if a.HasField("g"):
                    yield from in_graph(a.g, f"{here}'s subgraph {a.name}: ")
                for g in a.graphs:
                    yield from in_graph(g, f"{here}'s subgraph {a.name}: ")

    yield from in_graph(model.graph, "")
    for f in model.functions:
        yield from in_nodes(f.node, f"function {_short(f.name)}: ")
    for info in model.training_info:
        yield from in_graph(info.initialization, "training initialization: ")
        yield from in_graph(info.algorithm, "training algorithm: ")


def _sparse(sp, where):
    yield sp.values, where
    yield sp.indices, where


def _short(name: str) -> str:
    return name if len(name) <= 80 else name[:77] + "..."


def import_onnx(path: str | Path | OnnxFile, registry=None) -> ImportResult:
    """Import an ONNX file (a path, or one :func:`open_model` has read) as a project."""
    with collector_paused():  # a big model makes many objects and keeps them all
        return _import_onnx(path, registry)


def _import_onnx(path: str | Path | OnnxFile, registry) -> ImportResult:
    from onnx import numpy_helper

    source = path if isinstance(path, OnnxFile) else open_model(path)
    path, model = source.path, source.model
    graph = Graph(registry)
    ctx = _Context(graph, path.name)
    ctx.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    g = model.graph
    for t in g.initializer:
        try:
            ctx.consts[t.name] = numpy_helper.to_array(t)
        except ValueError:  # the data does not fill the shape
            raise ImportModelError(f"{path}: initializer {_short(t.name)}: its data does not fill its shape "
                                   f"{list(t.dims)}") from None
    for vi in [*source.shapes.graph.value_info, *g.input, *g.output]:
        ctx.shapes[vi.name] = tensor_dims(vi)
    for node in g.node:
        for out in node.output:
            ctx.producers[out] = node
        for i in node.input:
            ctx.consumers[i] += 1
            ctx.readers.setdefault(i, []).append(node)
        if node.op_type == "Constant":
            ctx.consts[node.output[0]] = constant_value(node)
        else:
            folded_value = fold(node, ctx.consts)
            if folded_value is not None:  # weights an exporter left as slices and concats of weights
                ctx.consts[node.output[0]] = folded_value
    for vi in g.input:
        if vi.name not in ctx.consts:
            ctx.add_input(vi.name, vi)
    needed = _needed(g, ctx)
    unmapped: Counter = Counter()
    folded: Counter = Counter()
    for node in g.node:
        if node.op_type == "Constant":
            continue
        if id(node) not in needed or all(o in ctx.consts for o in node.output if o):
            folded[node.op_type] += 1  # a shape computation, or a weight's layout computed here
            continue
        # After a refusal the scan goes on, with a stand-in for what the refused operator
        # would give, so that every operator that would fail is listed, not only the first.
        after_refusal = any(i in ctx.broken for i in node.input if i)
        handler = HANDLERS.get(node.op_type)
        try:
            if handler is None:
                raise Unmapped("no Layer Studio layer")
            from onnx import helper

            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            outs = handler(ctx, node, attrs)
        except Unmapped as exc:
            unmapped[(node.op_type, str(exc))] += 1
            ctx.stand_in(node)
            continue
        except Exception:
            if not after_refusal:
                raise
            ctx.stand_in(node)  # it may fail only because of a stand-in: not counted
            continue
        for name, val in zip(node.output, outs):
            ctx.values[name] = val
        if after_refusal:
            ctx.broken.update(node.output)
    if unmapped:
        items = ", ".join(f"{op} x{n} ({why})" for (op, why), n in sorted(unmapped.items()))
        raise ImportModelError(f"{path}: cannot import: {sum(unmapped.values())} operator(s) have no mapping "
                               f"onto Layer Studio layers: {items}")
    for vi in g.output:
        ctx.add_output(vi.name)
    analysis = analyze(graph)
    problems = analysis.build_errors
    if problems:
        raise ImportModelError(f"{path}: the imported graph has problems: " + "; ".join(map(str, problems)))
    apply_layout(graph)
    project = Project(graph, name=path.stem,  # the file's name; the graph's is often "main_graph"
                      description=f"Imported from {path.name} ({model.producer_name or 'unknown producer'}, "
                                  f"opset {max((o.version for o in model.opset_import), default=0)}).")
    module = _check_weights(graph, ctx.state, path, analysis)
    check = verify(source, module, ctx)
    return ImportResult(project, ctx.state, dict(folded), check)


def _check_weights(graph: Graph, state: dict, path: Path, analysis):
    from studio.compile.module import compile_graph
    from studio.export.weights import WeightsError, check_fits

    try:
        with torch.device("meta"):  # every weight comes from the file: none is initialised first
            module = compile_graph(graph, analysis)
        check_fits({k: v.shape for k, v in module.state_dict().items()}, state, f"{path.name}'s weights")
    except WeightsError as exc:
        raise ImportModelError(str(exc)) from None
    own = module.state_dict()
    module.load_state_dict({k: state[k].to(own[k].dtype) for k in own}, assign=True)  # the file's tensors
    return module.eval()


BATCH = 8


def verify(source: OnnxFile, module, ctx, tolerance: float = TOLERANCE) -> Verification:
    """Run onnxruntime on the source model and the imported module on the same random inputs
    (a batch of 8 where the batch is free, random within each input's range); refuse the
    import, naming the output that differs most, beyond the tolerance."""
    import onnxruntime as ort

    model, path = source.model, source.path
    rng = np.random.default_rng(0)
    feeds, batch = {}, BATCH
    for vi in model.graph.input:
        if vi.name not in ctx.input_ids:
            continue
        dims = tensor_dims(vi) or []
        node = ctx.graph.node(ctx.input_ids[vi.name])
        length = node.params.get("length") or 16
        shape = [d if isinstance(d, int) and d > 0 else (BATCH if i == 0 else length) for i, d in enumerate(dims)]
        batch = shape[0] if shape else batch
        dtype = _NUMPY_TYPES.get(vi.type.tensor_type.elem_type)
        if dtype is None:
            raise ImportModelError(f"{path}: input {vi.name} has a type Layer Studio inputs do not take")
        if np.issubdtype(dtype, np.integer):
            feeds[vi.name] = rng.integers(0, ctx.id_range(node.id), size=shape).astype(dtype)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(dtype)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    # the file as written, unoptimised: a faithful reference, and no time spent folding weights
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    runner = "onnxruntime"
    try:
        session = ort.InferenceSession(source.raw, opts, providers=["CPUExecutionProvider"])
        want = session.run(None, feeds)
    except Exception as exc:
        # onnxruntime has no kernels for some operators of old opsets; onnx's reference
        # implementation (numpy, slow, every opset) runs those.
        from onnx.reference import ReferenceEvaluator

        try:
            want = ReferenceEvaluator(model).run(None, feeds)
            runner = "onnx's reference evaluator"
        except Exception:
            raise ImportModelError(f"{path}: neither onnxruntime nor onnx's reference evaluator can run the "
                                   f"source model, so the import cannot be verified: {_first_line(exc)}") from None
    inputs = [torch.from_numpy(feeds[name]) for name in ctx.input_order(module.input_names)]
    with torch.no_grad():
        got = module(*inputs)
    got = got if isinstance(got, tuple) else (got,)
    got_by_name = dict(zip(module.output_names, got))
    results = {}
    for vi, w in zip(model.graph.output, want):
        g = got_by_name[ctx.output_ids[vi.name]].numpy()
        if g.shape != w.shape:
            raise ImportModelError(f"{path}: output {vi.name} of the imported graph has shape {list(g.shape)}, "
                                   f"onnxruntime gives {list(w.shape)}")
        results[vi.name] = difference(g, w)
    worst = max(results, key=lambda n: results[n].rel if results[n].abs == results[n].abs else float("inf"))
    d = results[worst]
    what = f"a batch of {batch} random sample{'s' if batch != 1 else ''}"
    if not d.within(tolerance):
        raise ImportModelError(f"{path}: the imported graph does not compute what the file does: output {worst} "
                               f"differs from {runner} by {d.abs:.3g} (relative {d.rel:.3g}, tolerance "
                               f"{allowed(d.magnitude, tolerance):.3g}) on {what}")
    return Verification(what, max(r.abs for r in results.values()), d.rel, worst, runner)


_NUMPY_TYPES = {1: np.float32, 6: np.int32, 7: np.int64, 11: np.float64}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _needed(g, ctx) -> set[int]:
    """Nodes on a data path to an output; the rest compute shapes, indices or zero states."""
    needed: set[int] = set()
    stack = [o.name for o in g.output]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen or name not in ctx.producers or name in ctx.consts:
            continue
        seen.add(name)
        node = ctx.producers[name]
        if node.op_type == "Constant":
            continue
        needed.add(id(node))
        picks = DATA_INPUTS.get(node.op_type, range(len(node.input)))
        stack += [node.input[i] for i in picks if i < len(node.input) and node.input[i]]
    return needed


_CHANNELS_FIRST = ("Conv", "MaxPool", "AveragePool", "BatchNormalization", "InstanceNormalization", "LRN",
                   "GlobalAveragePool", "GlobalMaxPool")


class _Context:
    """What the operator functions see: values, constants, shapes, and the graph being built."""

    def __init__(self, graph: Graph, filename: str) -> None:
        self.graph = graph
        self.filename = filename
        self.values: dict[str, Val] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.shapes: dict[str, list | None] = {}
        self.producers: dict = {}
        self.consumers: Counter = Counter()
        self.readers: dict[str, list] = {}  # value name -> the nodes that take it
        self.state: dict[str, torch.Tensor] = {}
        self.broken: set[str] = set()
        self.biasless: dict[str, str] = {}  # Linear node from a MatMul -> its ONNX output
        self.opset = 1  # of the default domain: operators' meanings change with it
        self.input_ids: dict[str, str] = {}  # ONNX input name -> Input node
        self.output_ids: dict[str, str] = {}  # ONNX output name -> Output node

    def stand_in(self, node) -> None:
        """Give a refused operator's outputs a placeholder (its first data input), so that
        the operators after it are still tried; the import is refused in the end."""
        self.broken.update(node.output)
        src = next((self.values[i] for i in node.input if i in self.values), None)
        src = src or next(iter(self.values.values()), None)
        if src is not None:
            for name in node.output:
                self.values[name] = Val(src.node, src.port, "plain", src.rank)

    def data(self, name: str) -> Val:
        if name not in self.values:
            raise Unmapped(f"its input {name} is not a tensor the graph computes")
        return self.values[name]

    def is_const(self, name: str) -> bool:
        return name in self.consts

    def const(self, name: str) -> np.ndarray:
        if name not in self.consts:
            raise Unmapped(f"{name} is computed at run time, not a stored weight")
        return self.consts[name]

    def is_zeros(self, name: str) -> bool:
        if name in self.consts:
            return not np.any(self.consts[name])
        node = self.producers.get(name)
        if node is not None and node.op_type in ("Slice", "Expand", "Reshape", "Squeeze", "Unsqueeze", "Identity"):
            return self.is_zeros(node.input[0])  # a view of zeros is zeros
        if node is None or node.op_type != "ConstantOfShape":
            return False
        fill = constant_value(node)
        return fill.size == 0 or not np.any(fill)

    def bidirectional(self, node_id: str) -> bool:
        node = self.graph.node(node_id)
        return bool(node.params.get("bidirectional"))  # declared by the recurrent layers only

    def dims(self, name: str) -> list | None:
        return self.shapes.get(name)

    def rank(self, name: str) -> int:
        dims = self.shapes.get(name)
        if dims is not None:
            return len(dims)
        val = self.values.get(name)
        if val is not None and val.rank is not None:
            return val.rank
        raise Unmapped(f"the rank of {name} is unknown")

    def new_id(self, onnx_name: str, op_type: str) -> str:
        parts = [p for p in onnx_name.strip("/").split("/") if p]
        if len(parts) > 2 and parts[0] == "layers":  # /layers/<node>/<op>
            parts = parts[1:]
        if parts and parts[-1].split("_")[0] == op_type:
            parts = parts[:-1] if len(parts) > 1 else [parts[-1].lower()]
        if len(parts) > 1 and parts[-1] == "rnn" and op_type in ("LSTM", "GRU"):
            parts = parts[:-1]  # a Layer Studio export: the recurrent layer's inner torch module
        base = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts)).strip("_")[:56] or op_type.lower()
        if not re.match(r"[A-Za-z_]", base):
            base = "n_" + base
        node_id, i = base, 1
        while node_id in self.graph:
            i += 1
            node_id = f"{base}_{i}"
        return node_id

    def layer(self, node, type_id: str, params: dict, inputs: list[Val], weights: dict | None = None,
              port: str = "out") -> list[Val]:
        for v in inputs:
            if v.view != "plain":
                raise Unmapped(f"its input is in a layout ({v.view}) that {type_id} does not take")
        node_id = self.new_id(node.name or node.output[0], node.op_type)
        try:
            self.graph.add_node(type_id, params, node_id=node_id)
        except Exception as exc:
            raise Unmapped(f"{type_id} refuses its parameters: {exc}") from None
        ports = self.graph.input_ports(node_id)
        for v, p in zip(inputs, ports):
            self.graph.connect(v.node, v.port, node_id, p.name)
        for key, value in (weights or {}).items():
            self.state[f"layers.{node_id}.{key}"] = value
        if node.op_type == "MatMul":
            self.biasless[node_id] = node.output[0]
        return [Val(node_id, port)]

    def fold_bias(self, v: Val, bias: np.ndarray) -> bool:
        """Fold a constant added after a MatMul into that Linear's bias."""
        out = self.biasless.get(v.node)
        if out is None or self.consumers[out] != 1:
            return False
        n = self.graph.node(v.node).params["out_features"]
        if bias.size != n:
            return False
        self.graph.set_params(v.node, {"bias": True})
        self.state[f"layers.{v.node}.bias"] = torch.from_numpy(np.array(bias.reshape(-1), copy=True))
        del self.biasless[v.node]
        return True

    def add_input(self, name: str, vi) -> None:
        dims = tensor_dims(vi) or []
        elem = vi.type.tensor_type.elem_type
        integer = elem in (6, 7)  # INT32, INT64
        if elem not in (1, 6, 7):
            from onnx import TensorProto

            kind = TensorProto.DataType.Name(elem) if elem in TensorProto.DataType.values() else f"type {elem}"
            raise ImportModelError(f"{self.filename}: input {name} holds {kind} values; Layer Studio inputs are "
                                   "FLOAT (float32) or integer token ids, and nothing is cast silently")
        length = lambda d: d if isinstance(d, int) and d > 0 else 0  # noqa: E731
        if len(dims) == 4 and not integer:
            params = {"kind": "image", "channels": dims[1], "height": dims[2], "width": dims[3]}
        elif len(dims) == 3 and not integer and self.channels_first(name):
            params = {"kind": "signal", "channels": dims[1], "length": length(dims[2])}
        elif len(dims) == 3 and not integer:
            params = {"kind": "sequence", "length": length(dims[1]), "features": dims[2]}
        elif len(dims) == 2 and integer:
            params = {"kind": "tokens", "length": length(dims[1])}
        elif len(dims) == 2:
            params = {"kind": "vector", "features": dims[1]}
        else:
            raise ImportModelError(f"{self.filename}: input {name} has shape {dims}; Layer Studio inputs are "
                                   "images [B, C, H, W], sequences [B, T, F], vectors [B, F] or token ids [B, T]")
        if any(not isinstance(v, int) for k, v in params.items() if k != "kind"):
            raise ImportModelError(f"{self.filename}: input {name} needs fixed sizes except batch and length, got {dims}")
        node_id = name if NODE_ID.match(name) and name not in self.graph else self.new_id(name, "input")
        params["field"] = node_id
        self.graph.add_node("Input", params, node_id=node_id)
        self.values[name] = Val(node_id, "out", "plain", len(dims))
        self.input_ids[name] = node_id

    def channels_first(self, name: str) -> bool:
        """A [B, C, L] input read by a 1-d convolution, pooling or normalisation is a signal."""
        readers = [n.op_type for n in self.readers.get(name, [])]
        return bool(readers) and all(op in _CHANNELS_FIRST for op in readers)

    def input_order(self, node_ids: list[str]) -> list[str]:
        """The ONNX input names of the Input nodes ``node_ids``, in that order."""
        onnx_name = {v: k for k, v in self.input_ids.items()}
        return [onnx_name[n] for n in node_ids]

    def id_range(self, node_id: str) -> int:
        """How many token ids the layers reading this Input take (the smallest vocabulary)."""
        limits = [(e.dst, self.graph.spec(e.dst).id_limit) for e in self.graph.edges if e.src == node_id]
        sizes = [self.graph.node(dst).params[limit] for dst, limit in limits if limit is not None]
        return min([s for s in sizes if s] or [2])

    def add_output(self, name: str) -> None:
        v = self.values.get(name)
        if v is None:
            raise ImportModelError(f"{self.filename}: output {name} is not computed by any mapped operator")
        if v.view != "plain":
            raise ImportModelError(f"{self.filename}: output {name} is a recurrent state or time-major "
                                   "sequence; Layer Studio outputs are batch-first tensors")
        if "loss" in name.lower():
            # A Layer Studio export names each output after the loss it fed; what comes
            # out of the model is that loss's input (class scores, say), not a loss.
            node_id = self.new_id("output", "output")
        else:
            node_id = name if NODE_ID.match(name) and name not in self.graph else self.new_id(name, "output")
        self.graph.add_node("Output", {}, node_id=node_id)
        self.graph.connect(v.node, v.port, node_id, "in")
        self.output_ids[name] = node_id
