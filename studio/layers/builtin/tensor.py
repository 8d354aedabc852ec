"""Layers that cut, pad or repeat a tensor along its non-batch axes."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.layers.builtin._rules import axis_of
from studio.layers.spec import Ctor, LayerSpec, Param, Port


def _mod(name):
    from studio.layers import modules

    return getattr(modules, name)


def _pad_infer(p, ins):
    x = ins["in"]
    pads = list(p["pads"])
    if not pads or len(pads) % 2 or len(pads) // 2 > x.rank - 1:
        raise ShapeError(f"Pad needs a begin and an end for each of the last axes of {x}, got {pads}")
    dims = list(x.dims)
    for i in range(len(pads) // 2):
        axis = x.rank - 1 - i
        if not isinstance(dims[axis], int):
            raise ShapeError(f"Pad of a variable axis ({dims[axis]}) is not supported")
        if p["mode"] == "reflect" and max(pads[2 * i], pads[2 * i + 1]) >= dims[axis]:
            raise ShapeError(f"Pad: reflecting {pads[2 * i:2 * i + 2]} needs more than {dims[axis]} values")
        dims[axis] += pads[2 * i] + pads[2 * i + 1]
        if dims[axis] < 1:
            raise ShapeError(f"Pad {pads} leaves nothing of {x}")
    return {"out": x.with_dims(dims, x.axes)}


PAD = LayerSpec(
    id="Pad", title="Pad", category="Reshape",
    doc="Pads the last axes (pads: last axis begin, end, then the axis before...), e.g. uneven "
        "padding before a convolution or pooling.",
    params=(Param("pads", "ints", (1, 1, 1, 1), -4096, 4096, doc="Begin, end per axis, from the last"),
            Param("mode", "choice", "constant", choices=("constant", "reflect", "replicate")),
            Param("value", "float", 0.0, doc="Fill value (constant mode)")),
    infer=_pad_infer,
    build=lambda p, ins: Ctor(_mod("Pad"), {"pads": tuple(p["pads"]), "mode": p["mode"], "value": p["value"]}),
    export_notes="ONNX Pad.",
)


def _axis(title, x, axis):
    index = axis_of(title, x, axis)
    if index == 0:
        raise ShapeError(f"{title} works on non-batch axes, got axis {axis} of {x}")
    d = x.dims[index]
    if not isinstance(d, int):
        raise ShapeError(f"{title} along a variable axis ({d}) is not supported")
    return index, d


def _slice_infer(p, ins):
    x = ins["in"]
    axis, d = _axis("Slice", x, p["axis"])
    start, end = (min(max(v + d if v < 0 else v, 0), d) for v in (p["start"], p["end"]))
    n = len(range(start, end, p["step"]))
    if n < 1:
        raise ShapeError(f"Slice {p['start']}:{p['end']} of axis {p['axis']} is empty in {x}")
    dims = list(x.dims)
    dims[axis] = n
    return {"out": x.with_dims(dims, x.axes)}


def _slice_build(p, ins):
    x = ins["in"]
    axis, d = _axis("Slice", x, p["axis"])
    start, end = (min(max(v + d if v < 0 else v, 0), d) for v in (p["start"], p["end"]))
    return Ctor(_mod("Slice"), {"axis": axis, "start": start, "end": end, "step": p["step"]})


SLICE = LayerSpec(
    id="Slice", title="Slice", category="Reshape",
    doc="Keeps start:end:step of one non-batch axis (negative counts from the end).",
    params=(Param("axis", "int", 1, -8, 8), Param("start", "int", 0, -10**9, 10**9),
            Param("end", "int", 1, -10**9, 10**9), Param("step", "int", 1, 1, 10**6)),
    infer=_slice_infer, build=_slice_build,
)


def _split_ports(p):
    return tuple(Port(f"out{i + 1}") for i in range(len(p["sizes"])))


def _split_infer(p, ins):
    x = ins["in"]
    axis, d = _axis("Split", x, p["axis"])
    if sum(p["sizes"]) != d:
        raise ShapeError(f"Split sizes {list(p['sizes'])} add up to {sum(p['sizes'])}, axis {p['axis']} of {x} has {d}")
    out = {}
    for i, n in enumerate(p["sizes"]):
        dims = list(x.dims)
        dims[axis] = n
        out[f"out{i + 1}"] = x.with_dims(dims, x.axes)
    return out


SPLIT = LayerSpec(
    id="Split", title="Split", category="Reshape",
    doc="Cuts one non-batch axis into consecutive parts, one output each.",
    params=(Param("axis", "int", 1, -8, 8), Param("sizes", "ints", (1, 1), 1, 1_000_000)),
    outputs=_split_ports, infer=_split_infer,
    build=lambda p, ins: Ctor(_mod("Split"), {"axis": _axis("Split", ins["in"], p["axis"])[0],
                                              "sizes": tuple(p["sizes"])}),
)


def _tile_infer(p, ins):
    x = ins["in"]
    reps = list(p["repeats"])
    if len(reps) != x.rank - 1:
        raise ShapeError(f"Tile needs one repeat count per non-batch axis of {x}, got {reps}")
    dims = [x.dims[0]] + [d * r if isinstance(d, int) else (d if r == 1 else None) for d, r in zip(x.dims[1:], reps)]
    if None in dims:
        raise ShapeError("Tile can repeat a variable axis only once")
    return {"out": x.with_dims(dims, x.axes)}


TILE = LayerSpec(
    id="Tile", title="Tile", category="Reshape",
    doc="Repeats the tensor along each non-batch axis.",
    params=(Param("repeats", "ints", (1,), 1, 100_000),),
    infer=_tile_infer, build=lambda p, ins: Ctor(_mod("Tile"), {"repeats": tuple(p["repeats"])}),
)


def register(registry) -> None:
    for spec in (PAD, SLICE, SPLIT, TILE):
        registry.add(spec)
