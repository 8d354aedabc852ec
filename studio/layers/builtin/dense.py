"""Linear, Embedding, Dropout and the layers that only rearrange a tensor."""

from __future__ import annotations

from math import prod

from studio.spec.errors import ShapeError
from studio.spec.shapes import TensorShape
from studio.layers.builtin._rules import expect_float, expect_rank, fixed, numel, per_sample
from studio.layers.spec import Cost, Ctor, LayerSpec, Param


def _nn(name):
    import torch.nn

    return getattr(torch.nn, name)


def _mod(name):
    from studio.layers import modules

    return getattr(modules, name)


def _linear_infer(p, ins):
    x = ins["in"]
    expect_float("Linear", x)
    hint = "insert Flatten" if x.rank >= 4 else "this has no batch axis"
    if x.rank < 2 or x.rank > 3:
        raise ShapeError(f"Linear expects [B, F] or [B, T, F], got {x}: {hint}")
    fixed("Linear", x, -1, "feature size")
    axes = x.axes[:-1] + ("F",) if x.axes else None
    return {"out": x.with_dims((*x.dims[:-1], p["out_features"]), axes)}


def _linear_cost(p, ins, outs):
    f_in = ins["in"].dims[-1]
    w = f_in * p["out_features"] + (p["out_features"] if p["bias"] else 0)
    rows = numel(ins["in"].dims[1:-1])
    return Cost(w, 2 * f_in * p["out_features"] * rows)


LINEAR = LayerSpec(
    id="Linear", title="Linear", category="Dense",
    doc="Fully connected layer on the last axis: y = xWᵀ + b.",
    params=(Param("out_features", "int", 64, 1, 1_000_000, doc="Output features"),
            Param("bias", "bool", True)),
    infer=_linear_infer, cost=_linear_cost,
    build=lambda p, ins: Ctor(_nn("Linear"), {"in_features": ins["in"].dims[-1],
                                              "out_features": p["out_features"], "bias": p["bias"]}),
    legacy_ids=("Dense", "FullyConnected", "Affine"),
    export_notes="ONNX Gemm (2-D) or MatMul+Add.",
)


def _dropout_infer(p, ins):
    return {"out": ins["in"]}


DROPOUT = LayerSpec(
    id="Dropout", title="Dropout", category="Regularization",
    doc="Zeroes a random fraction p of values while training; does nothing at inference.",
    params=(Param("p", "float", 0.5, 0.0, 0.99, doc="Drop probability"),),
    infer=_dropout_infer,
    build=lambda p, ins: Ctor(_nn("Dropout"), {"p": p["p"]}),
    export_notes="Removed from the exported (inference) graph.",
)


def _flatten_infer(p, ins):
    x = ins["in"]
    expect_rank("Flatten", x, (2, 3, 4, 5), "[B, ...]")
    for i in range(1, x.rank):
        fixed("Flatten", x, i, "size on every axis")
    return {"out": x.with_dims((x.dims[0], per_sample(x)), ("B", "F"))}


FLATTEN = LayerSpec(
    id="Flatten", title="Flatten", category="Reshape",
    doc="Flattens every axis but the batch into one feature axis.",
    infer=_flatten_infer,
    build=lambda p, ins: Ctor(_nn("Flatten")),
)


def _reshape_infer(p, ins):
    x = ins["in"]
    target = list(p["shape"])
    if not target:
        raise ShapeError("Reshape needs a target shape, e.g. [1, 28, 28]")
    n = per_sample(x)
    for i in range(1, x.rank):
        fixed("Reshape", x, i, "size on every axis")
    if target.count(-1) > 1:
        raise ShapeError("Reshape allows at most one -1 in its shape")
    if -1 in target:
        known = prod(d for d in target if d != -1)
        if n % known:
            raise ShapeError(f"Reshape cannot fit {n} values per sample into {target}")
        target[target.index(-1)] = n // known
    if prod(target) != n:
        raise ShapeError(f"Reshape to {target} needs {prod(target)} values per sample, got {n} from {x}")
    return {"out": x.with_dims(("B", *target))}


RESHAPE = LayerSpec(
    id="Reshape", title="Reshape", category="Reshape",
    doc="Reshapes each sample (the batch axis is kept); one entry may be -1.",
    params=(Param("shape", "ints", (1, 28, 28), -1, 1_000_000, doc="Target shape without the batch"),),
    infer=_reshape_infer,
    build=lambda p, ins: Ctor(_mod("Reshape"), {"shape": tuple(_reshape_infer(p, ins)["out"].dims[1:])}),
)


def _permute_infer(p, ins):
    x = ins["in"]
    order = list(p["order"])
    if sorted(order) != list(range(1, x.rank)):
        raise ShapeError(f"Permute order {order} must reorder the axes 1..{x.rank - 1} of {x}")
    dims = [x.dims[0]] + [x.dims[i] for i in order]
    axes = [x.axes[0]] + [x.axes[i] for i in order] if x.axes else None
    return {"out": x.with_dims(dims, axes)}


PERMUTE = LayerSpec(
    id="Permute", title="Permute", category="Reshape",
    doc="Reorders the non-batch axes (counted from 1), e.g. [2, 1] turns [B, T, F] into [B, F, T].",
    params=(Param("order", "ints", (2, 1), 1, 8, doc="New order of axes 1..n"),),
    infer=_permute_infer,
    build=lambda p, ins: Ctor(_mod("Permute"), {"order": tuple(p["order"])}),
    legacy_ids=("Transpose",),
)


def _embedding_infer(p, ins):
    x = ins["in"]
    if x.dtype != "long":
        raise ShapeError(f"Embedding expects integer token ids [B, T], got real values {x}: "
                         "feed it from an Input of kind 'tokens'")
    if p["padding_idx"] >= p["num_embeddings"]:
        raise ShapeError(f"Embedding padding_idx {p['padding_idx']} must be below num_embeddings "
                         f"{p['num_embeddings']} (ids run 0..{p['num_embeddings'] - 1}), or -1 for none")
    axes = (*x.axes, "F") if x.axes else None
    return {"out": TensorShape((*x.dims, p["embedding_dim"]), axes, "float")}


EMBEDDING = LayerSpec(
    id="Embedding", title="Embedding", category="Dense",
    doc="Looks up a learned vector for each token id.",
    params=(Param("num_embeddings", "int", 1000, 1, 10_000_000, doc="Vocabulary size"),
            Param("embedding_dim", "int", 64, 1, 100_000),
            Param("padding_idx", "int", -1, -1, 10_000_000, doc="Id whose vector stays zero (-1: none)")),
    infer=_embedding_infer, id_limit="num_embeddings",
    cost=lambda p, ins, outs: Cost(p["num_embeddings"] * p["embedding_dim"], 0),
    build=lambda p, ins: Ctor(_nn("Embedding"), {
        "num_embeddings": p["num_embeddings"], "embedding_dim": p["embedding_dim"],
        "padding_idx": None if p["padding_idx"] < 0 else p["padding_idx"]}),
    export_notes="ONNX Gather.",
)


def register(registry) -> None:
    for spec in (LINEAR, DROPOUT, FLATTEN, RESHAPE, PERMUTE, EMBEDDING):
        registry.add(spec)
