"""Element-wise arithmetic: with a stored constant, between two tensors, single-argument
functions, and reductions over axes. Operands broadcast as in numpy (aligned at the end)."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.layers.builtin._rules import axis_of, expect_float, per_sample
from studio.layers.spec import Cost, Ctor, LayerSpec, Param, Port

OPS = ("add", "sub", "mul", "div", "pow", "min", "max")
FUNCTIONS = ("abs", "exp", "log", "neg", "sqrt", "reciprocal", "floor", "ceil")


def broadcast(title: str, a, b) -> tuple:
    """The numpy broadcast of two dimension lists (the batch symbol broadcasts only with itself or 1)."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ShapeError(f"{title}: shapes {list(a)} and {list(b)} do not broadcast (axis of {x} against {y})")
    return tuple(out)


def _mod(name):
    from studio.layers import modules

    return getattr(modules, name)


def _const_infer(p, ins):
    x = ins["in"]
    expect_float("ConstantOp", x)
    shape = tuple(p["shape"])
    if len(shape) >= x.rank:
        raise ShapeError(f"ConstantOp: the constant {list(shape)} has as many axes as {x} or more; "
                         "it broadcasts over the batch, so give it fewer")
    dims = broadcast("ConstantOp", x.dims[1:], shape)
    return {"out": x.with_dims((x.dims[0], *dims), x.axes if dims == tuple(x.dims[1:]) else None)}


CONSTANT_OP = LayerSpec(
    id="ConstantOp", title="Constant operand", category="Arithmetic",
    doc="x op c with a stored tensor c of the given shape that broadcasts over x (a scale, a shift, a bound).",
    params=(Param("op", "choice", "mul", choices=OPS),
            Param("shape", "ints", (1,), 1, 1_000_000, doc="Shape of the constant (broadcast, no batch axis)"),
            Param("reverse", "bool", False, doc="c op x instead of x op c"),
            Param("learnable", "bool", False, doc="Train the constant with the rest")),
    infer=_const_infer,
    cost=lambda p, ins, outs: Cost(0, per_sample(outs["out"])),
    build=lambda p, ins: Ctor(_mod("ConstantOp"), {"op": p["op"], "shape": tuple(p["shape"]),
                                                   "reverse": p["reverse"], "learnable": p["learnable"]}),
    export_notes="ONNX Add, Sub, Mul, Div, Pow, Min or Max with an initializer.",
)


def _binary_infer(p, ins):
    a, b = ins["a"], ins["b"]
    expect_float("Binary", a)
    expect_float("Binary", b)
    dims = broadcast("Binary", a.dims, b.dims)
    return {"out": a.with_dims(dims, a.axes if dims == tuple(a.dims) else None)}


BINARY = LayerSpec(
    id="Binary", title="Binary op", category="Arithmetic",
    doc="a op b for two tensors that broadcast against each other (difference, ratio, minimum...).",
    params=(Param("op", "choice", "sub", choices=OPS),),
    inputs=(Port("a"), Port("b")), infer=_binary_infer,
    cost=lambda p, ins, outs: Cost(0, per_sample(outs["out"])),
    build=lambda p, ins: Ctor(_mod("Binary"), {"op": p["op"]}),
)


def _unary_infer(p, ins):
    expect_float("Function", ins["in"])
    return {"out": ins["in"]}


UNARY = LayerSpec(
    id="Function", title="Function", category="Arithmetic",
    doc="One element-wise function: " + ", ".join(FUNCTIONS) + ".",
    params=(Param("fn", "choice", "abs", choices=FUNCTIONS),),
    infer=_unary_infer, cost=lambda p, ins, outs: Cost(0, per_sample(ins["in"])),
    build=lambda p, ins: Ctor(_mod("Unary"), {"fn": p["fn"]}),
)


def _reduce_infer(p, ins):
    x = ins["in"]
    expect_float("Reduce", x)
    axes = sorted({axis_of("Reduce", x, a, "axis") for a in p["axes"]})
    if not axes or 0 in axes:
        raise ShapeError(f"Reduce needs one or more non-batch axes of {x}, got {list(p['axes'])}")
    if p["keepdim"]:
        dims = [1 if i in axes else d for i, d in enumerate(x.dims)]
    else:
        dims = [d for i, d in enumerate(x.dims) if i not in axes]
    if len(dims) < 2:
        raise ShapeError(f"Reduce over every non-batch axis of {x} leaves no features: keep the axes (keepdim)")
    return {"out": x.with_dims(dims)}


REDUCE = LayerSpec(
    id="Reduce", title="Reduce", category="Arithmetic",
    doc="Mean, sum, maximum or minimum over some non-batch axes.",
    params=(Param("op", "choice", "mean", choices=("mean", "sum", "max", "min")),
            Param("axes", "ints", (-1,), -8, 8), Param("keepdim", "bool", True)),
    infer=_reduce_infer, cost=lambda p, ins, outs: Cost(0, per_sample(ins["in"])),
    build=lambda p, ins: Ctor(_mod("Reduce"), {
        "op": p["op"], "axes": tuple(sorted({a % ins["in"].rank for a in p["axes"]})), "keepdim": p["keepdim"]}),
)


def register(registry) -> None:
    for spec in (CONSTANT_OP, BINARY, UNARY, REDUCE):
        registry.add(spec)
