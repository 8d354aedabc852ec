"""Layers that merge several inputs: Add, Multiply (same shapes) and Concat (one axis)."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.layers.builtin._rules import per_sample
from studio.layers.spec import Cost, Ctor, LayerSpec, Param, Port

_INPUTS = Param("inputs", "int", 2, 2, 16, doc="Number of inputs")


def _ports(p):
    return tuple(Port(f"in{i + 1}") for i in range(p["inputs"]))


def _connected(ins):
    return [(k, v) for k, v in sorted(ins.items(), key=lambda kv: int(kv[0][2:]))]


def _elementwise_infer(title):
    def infer(p, ins):
        items = _connected(ins)
        first_name, first = items[0]
        for name, s in items[1:]:
            if s.dims != first.dims:
                raise ShapeError(f"{title} needs equal shapes, got {first} at {first_name} and {s} at {name}: "
                                 "match them with a 1x1 convolution or a Linear layer")
        return {"out": first}
    return infer


def _concat_infer(p, ins):
    items = _connected(ins)
    first = items[0][1]
    axis = p["axis"] if p["axis"] >= 0 else first.rank + p["axis"]
    if not 1 <= axis < first.rank:
        raise ShapeError(f"Concat axis {p['axis']} is not a non-batch axis of {first}")
    total = 0
    for name, s in items:
        if s.rank != first.rank or any(a != b for i, (a, b) in enumerate(zip(s.dims, first.dims)) if i != axis):
            raise ShapeError(f"Concat along axis {axis} needs the other axes equal, got {first} and {s} at {name}")
        d = s.dims[axis]
        if not isinstance(d, int):
            raise ShapeError(f"Concat along a variable axis ({d}) is not supported")
        total += d
    dims = list(first.dims)
    dims[axis] = total
    return {"out": first.with_dims(dims, first.axes)}


def _mod(name, **kw):
    def build(p, ins):
        from studio.layers import modules

        if name == "Concat":
            axis = p["axis"] if p["axis"] >= 0 else next(iter(ins.values())).rank + p["axis"]
            return Ctor(modules.Concat, {"dim": axis})
        return Ctor(getattr(modules, name))
    return build


def _cost(p, ins, outs):
    return Cost(0, per_sample(outs["out"]) * (len(ins) - 1))


SPECS = (
    LayerSpec(id="Add", title="Add", category="Merge", doc="Element-wise sum of equal-shaped inputs (residual skips).",
              params=(_INPUTS,), inputs=_ports, infer=_elementwise_infer("Add"), cost=_cost, build=_mod("Add"),
              legacy_ids=("Add2", "Sum")),
    LayerSpec(id="Multiply", title="Multiply", category="Merge", doc="Element-wise product of equal-shaped inputs (gating).",
              params=(_INPUTS,), inputs=_ports, infer=_elementwise_infer("Multiply"), cost=_cost,
              build=_mod("Multiply"), legacy_ids=("Mul2",)),
    LayerSpec(id="Concat", title="Concat", category="Merge",
              doc="Joins inputs along one axis (1 = channels for images, -1 = features).",
              params=(_INPUTS, Param("axis", "int", 1, -8, 8)), inputs=_ports, infer=_concat_infer,
              cost=lambda p, ins, outs: Cost(), build=_mod("Concat"), legacy_ids=("Concatenate",)),
)


def register(registry) -> None:
    for spec in SPECS:
        registry.add(spec)
