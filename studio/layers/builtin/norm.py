"""Normalisation layers."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.layers.builtin._rules import expect_float, expect_rank, fixed, image_hint, per_sample
from studio.layers.spec import Cost, Ctor, LayerSpec, Param


def _nn(name):
    import torch.nn

    return getattr(torch.nn, name)


def _bn1_infer(p, ins):
    x = ins["in"]
    expect_float("BatchNorm1d", x)
    if x.rank == 3 and x.axes and x.axes[1] == "T":
        raise ShapeError(f"BatchNorm1d expects [B, C, L], got a sequence {x.describe()}: "
                         "use LayerNorm, or Permute with order [2, 1] first")
    expect_rank("BatchNorm1d", x, (2, 3), "[B, C] or [B, C, L]", "use BatchNorm2d for images" if x.rank == 4 else "")
    fixed("BatchNorm1d", x, 1, "channel count")
    return {"out": x}


def _bn2_infer(p, ins):
    x = ins["in"]
    expect_float("BatchNorm2d", x)
    expect_rank("BatchNorm2d", x, (4,), "[B, C, H, W]", image_hint(x) or "use BatchNorm1d")
    return {"out": x}


def _bn_cost(p, ins, outs):
    c = ins["in"].dims[1]
    return Cost(2 * c, 2 * per_sample(ins["in"]))


def _ln_infer(p, ins):
    x = ins["in"]
    expect_float("LayerNorm", x)
    expect_rank("LayerNorm", x, (2, 3, 4), "[B, ..., F]")
    fixed("LayerNorm", x, -1, "last axis")
    return {"out": x}


BN1 = LayerSpec(
    id="BatchNorm1d", title="BatchNorm 1d", category="Normalization",
    doc="Normalises each channel over the batch (vectors [B, C] or signals [B, C, L]).",
    params=(Param("momentum", "float", 0.1, 0.0, 1.0), Param("eps", "float", 1e-5, 1e-12, 1.0)),
    infer=_bn1_infer, cost=_bn_cost,
    build=lambda p, ins: Ctor(_nn("BatchNorm1d"), {"num_features": ins["in"].dims[1], **p}),
    export_notes="Folded into the preceding layer by ONNX exporters in inference mode.",
)
BN2 = LayerSpec(
    id="BatchNorm2d", title="BatchNorm 2d", category="Normalization",
    doc="Normalises each image channel over the batch and the pixels.",
    params=(Param("momentum", "float", 0.1, 0.0, 1.0), Param("eps", "float", 1e-5, 1e-12, 1.0)),
    infer=_bn2_infer, cost=_bn_cost,
    build=lambda p, ins: Ctor(_nn("BatchNorm2d"), {"num_features": ins["in"].dims[1], **p}),
    legacy_ids=("BatchNormalization",),
)
LN = LayerSpec(
    id="LayerNorm", title="LayerNorm", category="Normalization",
    doc="Normalises each sample over its last axis (features), as in transformers.",
    params=(Param("eps", "float", 1e-5, 1e-12, 1.0),),
    infer=_ln_infer,
    cost=lambda p, ins, outs: Cost(2 * ins["in"].dims[-1], 5 * per_sample(ins["in"])),
    build=lambda p, ins: Ctor(_nn("LayerNorm"), {"normalized_shape": ins["in"].dims[-1], "eps": p["eps"]}),
)


def _lrn_infer(p, ins):
    x = ins["in"]
    expect_float("LocalResponseNorm", x)
    expect_rank("LocalResponseNorm", x, (3, 4), "[B, C, L] or [B, C, H, W]")
    return {"out": x}


LRN = LayerSpec(
    id="LocalResponseNorm", title="Local response norm", category="Normalization",
    doc="Divides each value by a power of the sum of squares over neighbouring channels (AlexNet, GoogLeNet).",
    params=(Param("size", "int", 5, 1, 1024, doc="Neighbouring channels summed"),
            Param("alpha", "float", 1e-4, 0.0, 1e6), Param("beta", "float", 0.75, 0.0, 1e6),
            Param("k", "float", 1.0, 0.0, 1e6)),
    infer=_lrn_infer, cost=lambda p, ins, outs: Cost(0, (p["size"] + 3) * per_sample(ins["in"])),
    build=lambda p, ins: Ctor(_nn("LocalResponseNorm"), dict(p)),
    export_notes="ONNX LRN.",
)


def _in_infer(p, ins):
    x = ins["in"]
    expect_float("InstanceNorm", x)
    expect_rank("InstanceNorm", x, (3, 4), "[B, C, L] or [B, C, H, W]")
    fixed("InstanceNorm", x, 1, "channel count")
    return {"out": x}


INSTANCE = LayerSpec(
    id="InstanceNorm", title="Instance norm", category="Normalization",
    doc="Normalises each channel of each sample over its positions, with a learned scale and shift.",
    params=(Param("eps", "float", 1e-5, 1e-12, 1.0),),
    infer=_in_infer, cost=_bn_cost,
    build=lambda p, ins: Ctor(_nn("InstanceNorm2d" if ins["in"].rank == 4 else "InstanceNorm1d"),
                              {"num_features": ins["in"].dims[1], "eps": p["eps"], "affine": True}),
    export_notes="ONNX InstanceNormalization.",
)


def register(registry) -> None:
    for spec in (BN1, BN2, LN, LRN, INSTANCE):
        registry.add(spec)
