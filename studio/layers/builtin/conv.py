"""Convolutions and pooling over signals [B, C, L] and images [B, C, H, W]."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.spec.shapes import conv_out, conv_transpose_out
from studio.layers.builtin._rules import expect_float, expect_rank, fixed, image_hint, numel, per_sample
from studio.layers.spec import Cost, Ctor, LayerSpec, Param


def _nn(name):
    import torch.nn

    return getattr(torch.nn, name)


def _check(title, x, n):
    expect_float(title, x)
    if n == 1:
        if x.rank == 3 and x.axes and x.axes[1] == "T":
            raise ShapeError(f"{title} expects [B, C, L], got a sequence {x.describe()}: "
                             "insert Permute with order [2, 1] to put features first")
        expect_rank(title, x, (3,), "[B, C, L]", "use the 2d layer for images" if x.rank == 4 else "")
    else:
        expect_rank(title, x, (4,), "[B, C, H, W]", image_hint(x))
    fixed(title, x, 1, "channel count")


def _axes(x):
    return x.axes


_CONV_PARAMS = (
    Param("out_channels", "int", 16, 1, 100_000),
    Param("kernel_size", "int", 3, 1, 1024),
    Param("stride", "int", 1, 1, 1024),
    Param("padding", "int", 1, 0, 1024),
    Param("dilation", "int", 1, 1, 1024),
    Param("groups", "int", 1, 1, 100_000, doc="Split channels into groups (in and out must divide)"),
    Param("bias", "bool", True),
)


def _conv_infer(n):
    title = f"Conv{n}d"

    def infer(p, ins):
        x = ins["in"]
        _check(title, x, n)
        c = x.dims[1]
        if c % p["groups"] or p["out_channels"] % p["groups"]:
            raise ShapeError(f"{title}: groups={p['groups']} must divide both {c} input and "
                             f"{p['out_channels']} output channels")
        sp = [conv_out(d, p["kernel_size"], p["stride"], p["padding"], p["dilation"]) for d in x.dims[2:]]
        if any(isinstance(d, int) and d < 1 for d in sp):
            raise ShapeError(f"{title}: kernel {p['kernel_size']} does not fit input {x}: "
                             "use a smaller kernel or more padding")
        return {"out": x.with_dims((x.dims[0], p["out_channels"], *sp), _axes(x))}
    return infer


def _conv_cost(p, ins, outs):
    cin = ins["in"].dims[1]
    k = p["kernel_size"] ** (ins["in"].rank - 2)
    w = p["out_channels"] * (cin // p["groups"]) * k + (p["out_channels"] if p["bias"] else 0)
    return Cost(w, 2 * (cin // p["groups"]) * k * per_sample(outs["out"]))


def _conv_build(n):
    def build(p, ins):
        return Ctor(_nn(f"Conv{n}d"), {"in_channels": ins["in"].dims[1], **p})
    return build


def _tconv_infer(p, ins):
    x = ins["in"]
    _check("ConvTranspose2d", x, 2)
    if p["output_padding"] >= p["stride"]:
        raise ShapeError("ConvTranspose2d: output_padding must be smaller than stride")
    sp = [conv_transpose_out(d, p["kernel_size"], p["stride"], p["padding"], p["output_padding"]) for d in x.dims[2:]]
    if any(isinstance(d, int) and d < 1 for d in sp):
        raise ShapeError(f"ConvTranspose2d: padding {p['padding']} is too large for {x}")
    return {"out": x.with_dims((x.dims[0], p["out_channels"], *sp), _axes(x))}


def _tconv_cost(p, ins, outs):
    cin = ins["in"].dims[1]
    k = p["kernel_size"] ** 2
    w = cin * p["out_channels"] * k + (p["out_channels"] if p["bias"] else 0)
    return Cost(w, 2 * cin * k * p["out_channels"] * numel(ins["in"].dims[2:]))


def _pool_infer(title, n):
    def infer(p, ins):
        x = ins["in"]
        _check(title, x, n)
        stride = p["stride"] or p["kernel_size"]
        if 2 * p["padding"] > p["kernel_size"]:
            raise ShapeError(f"{title}: padding may be at most half the kernel size")
        sp = [conv_out(d, p["kernel_size"], stride, p["padding"]) for d in x.dims[2:]]
        if any(isinstance(d, int) and d < 1 for d in sp):
            raise ShapeError(f"{title}: window {p['kernel_size']} is larger than the input {x}: "
                             "remove this pooling layer or use a smaller window")
        return {"out": x.with_dims((*x.dims[:2], *sp), _axes(x))}
    return infer


def _pool_build(name):
    def build(p, ins):
        kw = {"kernel_size": p["kernel_size"], "stride": p["stride"] or p["kernel_size"], "padding": p["padding"]}
        if "count_include_pad" in p:
            kw["count_include_pad"] = p["count_include_pad"]
        return Ctor(_nn(name), kw)
    return build


_POOL_PARAMS = (
    Param("kernel_size", "int", 2, 1, 1024),
    Param("stride", "int", 0, 0, 1024, doc="0 = same as the kernel"),
    Param("padding", "int", 0, 0, 512),
)


_AVG_PARAMS = (*_POOL_PARAMS, Param("count_include_pad", "bool", True,
                                    doc="Count the zero padding in each average (off: average only the input)"))


def _padded_avg_infer(p, ins):
    x = ins["in"]
    n = x.rank - 2
    expect_float("PaddedAvgPool", x)
    if n not in (1, 2) or len(p["pads"]) != 2 * n:
        raise ShapeError(f"PaddedAvgPool needs [B, C, L] or [B, C, H, W] and a begin and end pad per axis, "
                         f"got {x} and {list(p['pads'])}")
    sp = []
    for i, d in enumerate(x.dims[2:]):
        begin, end = p["pads"][2 * (n - 1 - i)], p["pads"][2 * (n - 1 - i) + 1]
        if max(begin, end) >= p["kernel_size"]:
            raise ShapeError("PaddedAvgPool: each pad must be smaller than the window")
        sp.append(conv_out(d + begin + end, p["kernel_size"], p["stride"], 0))
    if any(isinstance(d, int) and d < 1 for d in sp):
        raise ShapeError(f"PaddedAvgPool: window {p['kernel_size']} is larger than the padded input {x}")
    return {"out": x.with_dims((*x.dims[:2], *sp), _axes(x))}


PADDED_AVG = LayerSpec(
    id="PaddedAvgPool", title="Average pool, uneven padding", category="Pooling",
    doc="Averages windows that may reach past the input by a different amount at each end, "
        "counting only the values inside (as imported models pool).",
    params=(Param("kernel_size", "int", 3, 1, 1024), Param("stride", "int", 1, 1, 1024),
            Param("pads", "ints", (0, 1, 0, 1), 0, 1024, doc="Begin, end per axis, from the last")),
    infer=_padded_avg_infer, cost=lambda p, ins, outs: Cost(0, per_sample(ins["in"])),
    build=lambda p, ins: Ctor(_mod("PaddedAvgPool"), {"kernel_size": p["kernel_size"], "stride": p["stride"],
                                                      "pads": tuple(p["pads"])}),
)


def _mod(name):
    from studio.layers import modules

    return getattr(modules, name)


def _pool(name, title, n, doc):
    return LayerSpec(id=name, title=title, category="Pooling", doc=doc,
                     params=_AVG_PARAMS if name.startswith("Avg") else _POOL_PARAMS,
                     infer=_pool_infer(name, n), build=_pool_build(name),
                     cost=lambda p, ins, outs: Cost(0, per_sample(ins["in"])))


def _adaptive_infer(n):
    title = f"AdaptiveAvgPool{n}d"

    def infer(p, ins):
        x = ins["in"]
        _check(title, x, n)
        size = tuple(p["output_size"])
        if len(size) != n:
            raise ShapeError(f"{title}: output_size needs {n} value(s), got {list(size)}")
        return {"out": x.with_dims((*x.dims[:2], *size), _axes(x))}
    return infer


def _adaptive(n):
    name = f"AdaptiveAvgPool{n}d"
    return LayerSpec(
        id=name, title=f"Adaptive avg pool {n}d", category="Pooling",
        doc="Averages to a fixed output size whatever the input size (global pooling with size 1).",
        params=(Param("output_size", "ints", (1,) * n, 1, 4096),),
        infer=_adaptive_infer(n),
        build=lambda p, ins: Ctor(_nn(name), {"output_size": tuple(p["output_size"]) if n > 1 else p["output_size"][0]}),
        cost=lambda p, ins, outs: Cost(0, per_sample(ins["in"])),
        legacy_ids=("GlobalAveragePooling2D",) if n == 2 else (),
        export_notes="ONNX GlobalAveragePool when the output size is 1, else AveragePool.",
    )


SPECS = (
    LayerSpec(id="Conv1d", title="Conv 1d", category="Convolution",
              doc="1-D convolution over signals [B, C, L].", params=_CONV_PARAMS,
              infer=_conv_infer(1), cost=_conv_cost, build=_conv_build(1), legacy_ids=("Convolution1D",)),
    LayerSpec(id="Conv2d", title="Conv 2d", category="Convolution",
              doc="2-D convolution over images [B, C, H, W].", params=_CONV_PARAMS,
              infer=_conv_infer(2), cost=_conv_cost, build=_conv_build(2),
              legacy_ids=("Convolution", "Convolution2D", "Conv2D")),
    LayerSpec(id="ConvTranspose2d", title="Transposed conv 2d", category="Convolution",
              doc="Learned upsampling of images (the gradient of a convolution).",
              params=(Param("out_channels", "int", 16, 1, 100_000), Param("kernel_size", "int", 2, 1, 1024),
                      Param("stride", "int", 2, 1, 1024), Param("padding", "int", 0, 0, 1024),
                      Param("output_padding", "int", 0, 0, 1024), Param("bias", "bool", True)),
              infer=_tconv_infer, cost=_tconv_cost,
              build=lambda p, ins: Ctor(_nn("ConvTranspose2d"), {"in_channels": ins["in"].dims[1], **p}),
              legacy_ids=("Deconvolution",)),
    _pool("MaxPool1d", "Max pool 1d", 1, "Keeps the largest value in each window of a signal."),
    _pool("MaxPool2d", "Max pool 2d", 2, "Keeps the largest value in each window of an image."),
    _pool("AvgPool1d", "Average pool 1d", 1, "Averages each window of a signal."),
    _pool("AvgPool2d", "Average pool 2d", 2, "Averages each window of an image."),
    _adaptive(1),
    _adaptive(2),
    PADDED_AVG,
)


def register(registry) -> None:
    for spec in SPECS:
        registry.add(spec)
