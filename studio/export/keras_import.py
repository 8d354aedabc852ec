"""Keras import: a ``.keras`` file (Sequential or functional) becomes an editable,
laid-out project with its weights, checked against Keras on the same random inputs.

Each Keras layer is mapped by :func:`_map_layer` (the classes it reads are in
:data:`MAPPED`); a layer with no mapping is listed by class and count and the import is
refused. Keras's usual channels-last images become Layer Studio's channels-first Input,
and a Permute is put back wherever Keras's own layout matters. Files load with Keras's
``safe_mode``, so no code inside them (a Lambda layer) runs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import torch

from studio.core.graph import Graph
from studio.export.common import build_module
from studio.export.errors import ImportModelError
from studio.export.keras import keras_backend, python_name
from studio.export.keras_layers import Made, NoKeras, activation_node, conv_from, rnn_from
from studio.export.tolerance import TOLERANCE, allowed, difference

MAX_BYTES = 2 * 1024**3
BATCH = 8


class _Importer:
    """Walks a Keras model's layers in order, making nodes and tracking, per Keras tensor,
    the node port that carries it and whether it is an image tensor that Layer Studio holds
    channels first while Keras holds it channels last."""

    def __init__(self, graph: Graph, name: str) -> None:
        self.graph = graph
        self.name = name
        self.values: dict[int, tuple[str, bool]] = {}  # id(KerasTensor) -> ("node.port", channels_first_copy)
        self.state: dict[str, torch.Tensor] = {}
        self.unmapped: Counter = Counter()

    def add(self, made: Made, sources: list[str], node_id: str | None = None) -> str:
        node = self.graph.add_node(made.type, made.params, node_id=node_id)
        ports = [p.name for p in self.graph.input_ports(node)]
        for port, src in zip(ports, sources):
            s_node, s_port = src.rsplit(".", 1)
            self.graph.connect(s_node, s_port, node.id, port)
        for key, value in made.state.items():
            value = np.asarray(value)
            kind = value.dtype if np.issubdtype(value.dtype, np.integer) else np.float32
            self.state[f"layers.{node.id}.{key}"] = torch.from_numpy(np.array(value, dtype=kind, order="C"))
        return f"{node.id}.{made.port}"

    def keras_layout(self, src: str, moved: bool, rank: int) -> str:
        """The tensor in Keras's own layout: an image held channels first is permuted back."""
        if not moved:
            return src
        order = (2, 3, 1) if rank == 4 else (2, 1)
        return self.add(Made("Permute", {"order": order}, {}), [src])

    def channels_first(self, src: str, moved: bool, rank: int) -> str:
        """The tensor channels first, for a convolution or pooling that reads Keras's channels last."""
        if moved:
            return src
        order = (3, 1, 2) if rank == 4 else (2, 1)
        return self.add(Made("Permute", {"order": order}, {}), [src])


def open_keras(path: str | Path):
    keras = keras_backend()
    path = Path(path)
    if not path.is_file():
        raise ImportModelError(f"{path}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise ImportModelError(f"{path}: larger than any model Layer Studio imports")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise ImportModelError(f"{path}: Keras cannot read this file: {str(exc).splitlines()[0][:300]}") from None


def import_keras(path: str | Path, registry=None, model=None):
    """A ``.keras`` file as a project (:class:`studio.export.onnx_import.ImportResult`);
    ``model``: the file as :func:`open_keras` read it, if it has been."""
    from studio.core.analysis import analyze
    from studio.core.layout import apply_layout
    from studio.core.project import Project
    from studio.export.onnx_import import ImportResult

    path = Path(path)
    model = model if model is not None else open_keras(path)
    graph = Graph(registry)
    imp = _Importer(graph, path.name)
    inputs = list(model.inputs)
    order = _operations(model)
    for t in inputs:
        formats = {op.get_config().get("data_format") for op, ins, _ in order if any(x is t for x in ins)}
        node_id, moved, made = _input_node(t, channels_first="channels_first" in formats)
        node = graph.add_node("Input", made, node_id=_free_id(graph, node_id))
        imp.values[id(t)] = (f"{node.id}.out", moved)
    for op, in_tensors, out_tensors in order:
        cls = type(op).__name__
        if cls == "InputLayer":
            continue
        try:
            srcs = [imp.values[id(t)] for t in in_tensors]
        except KeyError:
            for t in out_tensors:  # after a refusal: the scan goes on, listing every layer refused
                imp.values[id(t)] = ("", False)
            continue
        if any(s == "" for s, _ in srcs):  # after a refusal: list what could never be mapped
            if cls not in MAPPED:
                imp.unmapped[(cls, "no Layer Studio layer")] += 1
            for t in out_tensors:
                imp.values[id(t)] = ("", False)
            continue
        try:
            out = _map_layer(imp, op, cls, in_tensors, srcs)
        except NoKeras as exc:
            imp.unmapped[(cls, str(exc))] += 1
            for t in out_tensors:
                imp.values[id(t)] = ("", False)
            continue
        imp.values[id(out_tensors[0])] = out
    if imp.unmapped:
        items = ", ".join(f"{cls} x{n} ({why})" for (cls, why), n in sorted(imp.unmapped.items()))
        raise ImportModelError(f"{path}: cannot import: {sum(imp.unmapped.values())} layer(s) have no mapping "
                               f"onto Layer Studio layers: {items}")
    for i, t in enumerate(model.outputs):
        src, moved = imp.values[id(t)]
        src = imp.keras_layout(src, moved, len(t.shape))
        out = graph.add_node("Output", {}, node_id=_free_id(graph, "output" if len(model.outputs) == 1
                                                              else f"output{i + 1}"))
        s_node, s_port = src.rsplit(".", 1)
        graph.connect(s_node, s_port, out.id, "in")
    analysis = analyze(graph)
    if analysis.build_errors:
        raise ImportModelError(f"{path}: the imported graph has problems: "
                               + "; ".join(map(str, analysis.build_errors)))
    apply_layout(graph)
    project = Project(graph, name=model.name or path.stem,
                      description=f"Imported from {path.name} (Keras {keras_backend().__version__}).")
    module = build_module(graph, imp.state)
    result = ImportResult(project, imp.state)
    result.check = verify_keras(model, module, path, inputs, graph, [imp.values[id(t)][1] for t in inputs])
    return result


def _free_id(graph: Graph, wanted: str) -> str:
    base = python_name(wanted)
    taken = {n.id for n in graph.nodes}
    if base not in taken:
        return base
    i = 2
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def _input_node(t, channels_first: bool = False):
    """An Input node's parameters for a Keras input tensor, and whether Layer Studio holds it
    channels first while Keras holds it channels last (not when the layers reading it are
    channels first themselves, as a Layer Studio export is)."""
    dims = list(t.shape[1:])
    name = getattr(t, "name", "input") or "input"
    integer = "int" in str(t.dtype)
    if integer and len(dims) == 1:
        return name, False, {"kind": "tokens", "length": dims[0] or 0}
    if integer:
        raise NoKeras(f"an integer input of shape {dims} has no Input kind")
    if len(dims) == 1:
        return name, False, {"kind": "vector", "features": dims[0]}
    if len(dims) == 2:
        if dims[1] is None:
            raise ImportModelError(f"input {name} has no fixed feature size: {t.shape}")
        return name, False, {"kind": "sequence", "length": dims[0] or 0, "features": dims[1]}
    if len(dims) == 3 and all(isinstance(d, int) for d in dims) and channels_first:
        c, h, w = dims
        return name, False, {"kind": "image", "channels": c, "height": h, "width": w}
    if len(dims) == 3 and all(isinstance(d, int) for d in dims):
        h, w, c = dims  # Keras's usual channels last; Layer Studio's images are channels first
        return name, True, {"kind": "image", "channels": c, "height": h, "width": w}
    raise ImportModelError(f"input {name} of shape {t.shape} has no Layer Studio input kind")


def _operations(model):
    """(layer, input tensors, output tensors) in an order where inputs come first."""
    seen, order = set(), []

    def visit(tensor):
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            return
        op = history.operation
        node = op._inbound_nodes[history.node_index]
        key = (id(op), history.node_index)
        if key in seen:
            return
        seen.add(key)
        for t in node.input_tensors:
            visit(t)
        order.append((op, list(node.input_tensors), list(node.output_tensors)))

    for t in model.outputs:
        visit(t)
    return order


def _map_layer(imp: _Importer, op, cls: str, in_tensors, srcs) -> tuple[str, bool]:
    cfg = op.get_config()
    rank = len(in_tensors[0].shape)
    (src, moved) = srcs[0]
    act = cfg.get("activation")

    def then_activation(out: str, now_moved: bool):
        made = activation_node(act) if "activation" in cfg and cls != "Activation" else None
        return (imp.add(made, [out]) if made else out), now_moved

    if cls in ("Dense",):
        src = imp.keras_layout(src, moved, rank)
        w = op.get_weights()
        state = {"weight": w[0].T, **({"bias": w[1]} if cfg["use_bias"] else {})}
        out = imp.add(Made("Linear", {"out_features": int(cfg["units"]), "bias": bool(cfg["use_bias"])}, state),
                      [src], _free_id(imp.graph, op.name))
        return then_activation(out, False)
    if cls in ("Conv1D", "Conv2D"):
        dims = 1 if cls == "Conv1D" else 2
        last = cfg["data_format"] == "channels_last"
        if last:
            src = imp.channels_first(src, moved, rank)
        elif moved:
            src = imp.keras_layout(src, moved, rank)
        made = conv_from(op, cfg, dims)
        out = imp.add(made, [src], _free_id(imp.graph, op.name))
        if dims == 1 and last:  # a sequence stays [B, T, F] between layers, as Keras has it
            out = imp.add(Made("Permute", {"order": (2, 1)}, {}), [out])
            return then_activation(out, False)
        return then_activation(out, last)
    if cls in ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"):
        dims = int(cls[-2])
        kind = "Max" if cls.startswith("Max") else "Avg"
        k, s = _one_of(cfg["pool_size"]), _one_of(cfg["strides"] or cfg["pool_size"])
        if cfg["padding"] != "valid":
            raise NoKeras("only 'valid' pooling is mapped")
        last = cfg["data_format"] == "channels_last"
        src = imp.channels_first(src, moved, rank) if last else imp.keras_layout(src, moved, rank)
        params = {"kernel_size": k, "stride": s, "padding": 0}
        if kind == "Avg":
            params["count_include_pad"] = True
        out = imp.add(Made(f"{kind}Pool{dims}d", params, {}), [src], _free_id(imp.graph, op.name))
        if dims == 1 and last:
            return imp.add(Made("Permute", {"order": (2, 1)}, {}), [out]), False
        return out, last
    if cls in ("GlobalAveragePooling1D", "GlobalAveragePooling2D"):
        dims = int(cls[-2])
        last = cfg["data_format"] == "channels_last"
        src = imp.channels_first(src, moved, rank) if last else imp.keras_layout(src, moved, rank)
        out = imp.add(Made(f"AdaptiveAvgPool{dims}d", {"output_size": (1,) * dims}, {}), [src],
                      _free_id(imp.graph, op.name))
        if not cfg.get("keepdims"):
            out = imp.add(Made("Flatten", {}, {}), [out])
            return out, False
        return out, last
    if cls == "BatchNormalization":
        axis = cfg["axis"] if isinstance(cfg["axis"], int) else cfg["axis"][0]
        axis = axis % rank
        w = op.get_weights()
        if not (cfg["center"] and cfg["scale"]):
            raise NoKeras("a BatchNormalization without center or scale is not mapped")
        state = {"weight": w[0], "bias": w[1], "running_mean": w[2], "running_var": w[3],
                 "num_batches_tracked": np.array(0, dtype=np.int64)}
        params = {"momentum": 1 - float(cfg["momentum"]), "eps": float(cfg["epsilon"])}
        if rank == 4 and ((moved and axis == 3) or (not moved and axis == 1)):
            return imp.add(Made("BatchNorm2d", params, state), [src], _free_id(imp.graph, op.name)), moved
        if rank == 2 and axis == 1:
            return imp.add(Made("BatchNorm1d", params, state), [src], _free_id(imp.graph, op.name)), False
        raise NoKeras(f"batch normalization over axis {axis} of a rank-{rank} tensor is not mapped")
    if cls == "LayerNormalization":
        axis = cfg["axis"] if isinstance(cfg["axis"], int) else cfg["axis"][0]
        if axis % rank != rank - 1 or moved or not (cfg["center"] and cfg["scale"]):
            raise NoKeras("only a LayerNormalization over the last axis, with center and scale, is mapped")
        w = op.get_weights()
        return imp.add(Made("LayerNorm", {"eps": float(cfg["epsilon"])}, {"weight": w[0], "bias": w[1]}), [src],
                       _free_id(imp.graph, op.name)), False
    if cls == "Dropout":
        return imp.add(Made("Dropout", {"p": float(cfg["rate"])}, {}), [src], _free_id(imp.graph, op.name)), moved
    if cls == "Flatten":
        src = imp.keras_layout(src, moved, rank)
        return imp.add(Made("Flatten", {}, {}), [src], _free_id(imp.graph, op.name)), False
    if cls == "Reshape":
        src = imp.keras_layout(src, moved, rank)
        return imp.add(Made("Reshape", {"shape": tuple(cfg["target_shape"])}, {}), [src],
                       _free_id(imp.graph, op.name)), False
    if cls == "Permute":
        src = imp.keras_layout(src, moved, rank)
        return imp.add(Made("Permute", {"order": tuple(cfg["dims"])}, {}), [src], _free_id(imp.graph, op.name)), False
    if cls == "Embedding":
        w = op.get_weights()
        params = {"num_embeddings": int(cfg["input_dim"]), "embedding_dim": int(cfg["output_dim"]), "padding_idx": -1}
        return imp.add(Made("Embedding", params, {"weight": w[0]}), [src], _free_id(imp.graph, op.name)), False
    if cls in ("LSTM", "GRU"):
        src = imp.keras_layout(src, moved, rank)
        made = rnn_from(op, cfg, cls.lower(), False)
        return imp.add(made, [src], _free_id(imp.graph, op.name)), False
    if cls == "Bidirectional":
        inner = op.forward_layer
        inner_cls = type(inner).__name__
        if inner_cls not in ("LSTM", "GRU") or cfg.get("merge_mode") != "concat":
            raise NoKeras("only a Bidirectional LSTM or GRU with merge_mode 'concat' is mapped")
        src = imp.keras_layout(src, moved, rank)
        made = rnn_from(op, inner.get_config(), inner_cls.lower(), True)
        return imp.add(made, [src], _free_id(imp.graph, op.name)), False
    if cls in ("Add", "Multiply"):
        movedness = {m for _, m in srcs}
        if len(movedness) > 1:
            srcs = [(imp.keras_layout(s, m, rank), False) for s, m in srcs]
        made = Made(cls, {"inputs": len(srcs)}, {})
        return imp.add(made, [s for s, _ in srcs], _free_id(imp.graph, op.name)), srcs[0][1]
    if cls == "Concatenate":
        axis = cfg["axis"] % rank
        if any(m for _, m in srcs):
            if rank == 4:
                axis = {3: 1, 1: 2, 2: 3}[axis]
                srcs = [(imp.channels_first(s, m, rank), True) for s, m in srcs]
            else:
                srcs = [(imp.keras_layout(s, m, rank), False) for s, m in srcs]
        made = Made("Concat", {"inputs": len(srcs), "axis": axis}, {})
        return imp.add(made, [s for s, _ in srcs], _free_id(imp.graph, op.name)), srcs[0][1]
    if cls == "Activation":
        made = activation_node(cfg["activation"])
        if made is None:
            return src, moved
        if made.type == "Softmax":
            src, moved = imp.keras_layout(src, moved, rank), False
        return imp.add(made, [src], _free_id(imp.graph, op.name)), moved
    if cls == "ReLU":
        if cfg.get("max_value") is not None or cfg.get("negative_slope") or cfg.get("threshold"):
            raise NoKeras("a ReLU with max_value, negative_slope or threshold is not mapped")
        return imp.add(Made("ReLU", {}, {}), [src], _free_id(imp.graph, op.name)), moved
    if cls == "LeakyReLU":
        return imp.add(Made("LeakyReLU", {"negative_slope": float(cfg["negative_slope"])}, {}), [src],
                       _free_id(imp.graph, op.name)), moved
    if cls == "ELU":
        return imp.add(Made("ELU", {"alpha": float(cfg["alpha"])}, {}), [src], _free_id(imp.graph, op.name)), moved
    if cls == "Softmax":
        src = imp.keras_layout(src, moved, rank)
        axis = cfg["axis"] if isinstance(cfg["axis"], int) else cfg["axis"][0]
        return imp.add(Made("Softmax", {"dim": axis}, {}), [src], _free_id(imp.graph, op.name)), False
    raise NoKeras("no Layer Studio layer")


# The Keras classes _map_layer knows (some only with certain settings).
MAPPED = {"Dense", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
          "GlobalAveragePooling1D", "GlobalAveragePooling2D", "BatchNormalization", "LayerNormalization",
          "Dropout", "Flatten", "Reshape", "Permute", "Embedding", "LSTM", "GRU", "Bidirectional", "Add",
          "Multiply", "Concatenate", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "InputLayer"}


def _one_of(value) -> int:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if len(set(values)) != 1:
        raise NoKeras(f"only square pooling windows are mapped, not {values}")
    return int(values[0])


class KerasCheck:
    def __init__(self, inputs: str, max_abs: float, max_rel: float, worst: str) -> None:
        self.inputs, self.max_abs, self.max_rel, self.worst = inputs, max_abs, max_rel, worst

    def __str__(self) -> str:
        return (f"matches Keras on the source file: largest difference {self.max_abs:.3g} "
                f"(relative {self.max_rel:.3g}, at {self.worst}) on {self.inputs}")


def verify_keras(model, module, path: Path, inputs, graph: Graph, moved: list[bool],
                 tolerance: float = TOLERANCE) -> KerasCheck:
    """Keras and the imported module on the same random inputs (images handed to Keras
    channels last, as it reads them); beyond the tolerance the import is refused."""
    import keras

    rng = np.random.default_rng(0)
    ours, theirs = [], []
    for t, name, channels_last in zip(inputs, module.input_names, moved):
        node = graph.node(name)
        dims = [d if d is not None else (node.params.get("length") or 16) for d in t.shape[1:]]
        if node.params["kind"] == "tokens":
            limit = _vocabulary(graph, name)
            x = rng.integers(0, limit, size=[BATCH, *dims]).astype(np.int64)
            ours.append(torch.from_numpy(x))
            theirs.append(x)
            continue
        x = rng.standard_normal([BATCH, *dims]).astype(np.float32)
        theirs.append(x)
        ours.append(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2) if channels_last else x)))
    import warnings

    with warnings.catch_warnings():  # Keras warns when one input comes as a list of one
        warnings.simplefilter("ignore")
        want = model(theirs, training=False)
    want = want if isinstance(want, (list, tuple)) else [want]
    with torch.no_grad():
        got = module(*ours)
    got = got if isinstance(got, tuple) else (got,)
    results = {}
    for name, g, w in zip(module.output_names, got, want):
        w = keras.ops.convert_to_numpy(w)
        g = g.numpy()
        if g.shape != w.shape:
            raise ImportModelError(f"{path}: output {name} of the imported graph has shape {list(g.shape)}, "
                                   f"Keras gives {list(w.shape)}")
        results[name] = difference(g, w)
    worst = max(results, key=lambda n: results[n].rel if results[n].abs == results[n].abs else float("inf"))
    d = results[worst]
    what = f"a batch of {BATCH} random samples"
    if not d.within(tolerance):
        raise ImportModelError(f"{path}: the imported graph does not compute what the file does: output {worst} "
                               f"differs from Keras by {d.abs:.3g} (relative {d.rel:.3g}, tolerance "
                               f"{allowed(d.magnitude, tolerance):.3g}) on {what}")
    return KerasCheck(what, max(r.abs for r in results.values()), max(r.rel for r in results.values()), worst)


def _vocabulary(graph: Graph, input_id: str) -> int:
    limits = [graph.node(e.dst).params.get("num_embeddings", 2) for e in graph.edges_out(input_id)
              if graph.node(e.dst).type == "Embedding"]
    return min(limits) if limits else 2
