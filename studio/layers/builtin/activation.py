"""Element-wise activations; each keeps its input's shape."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.layers.builtin._rules import axis_of, expect_float, per_sample
from studio.layers.spec import Cost, Ctor, LayerSpec, Param


def _same(title):
    def infer(p, ins):
        expect_float(title, ins["in"])
        return {"out": ins["in"]}
    return infer


def _elementwise_cost(p, ins, outs):
    return Cost(0, per_sample(ins["in"]))


def _nn(name, **fixed):
    def build(p, ins):
        import torch.nn

        return Ctor(getattr(torch.nn, name), {**fixed, **p})
    return build


def _softmax_infer(title):
    def infer(p, ins):
        expect_float(title, ins["in"])
        axis_of(title, ins["in"], p["dim"], "dim")
        return {"out": ins["in"]}
    return infer


def _nn_cls(name):
    import torch.nn

    return getattr(torch.nn, name)


def _clip_infer(p, ins):
    expect_float("Clip", ins["in"])
    if not p["min"] < p["max"]:
        raise ShapeError(f"Clip: min {p['min']:g} must be below max {p['max']:g}")
    return {"out": ins["in"]}


def _clip_build(p, ins):
    return Ctor(_nn_cls("Hardtanh"), {"min_val": p["min"], "max_val": p["max"]})


def _prelu_infer(p, ins):
    x = ins["in"]
    expect_float("PReLU", x)
    n = p["num_parameters"]
    if n != 1 and (x.rank < 2 or x.dims[1] != n):
        raise ShapeError(f"PReLU with {n} slopes needs {n} channels on axis 1, got {x}")
    return {"out": x}


def _softmax_build(p, ins):
    from studio.layers.modules import Softmax

    return Ctor(Softmax, {"dim": p["dim"]})


def _act(id, title, doc, build, params=(), legacy=(), infer=None):
    return LayerSpec(id=id, title=title, category="Activation", doc=doc, params=params,
                     infer=infer or _same(id), cost=_elementwise_cost, build=build, legacy_ids=legacy)


SPECS = (
    _act("ReLU", "ReLU", "max(0, x).", _nn("ReLU")),
    _act("LeakyReLU", "Leaky ReLU", "x for x > 0, slope·x otherwise.", _nn("LeakyReLU"),
         (Param("negative_slope", "float", 0.01, 0.0, 1.0),)),
    _act("GELU", "GELU", "Gaussian error linear unit, as in transformers.", _nn("GELU")),
    _act("Sigmoid", "Sigmoid", "1 / (1 + e^-x), squashes to (0, 1).", _nn("Sigmoid")),
    _act("Tanh", "Tanh", "Hyperbolic tangent, squashes to (-1, 1).", _nn("Tanh")),
    _act("Softmax", "Softmax", "Turns scores into probabilities along one axis (losses take raw scores).",
         _softmax_build, (Param("dim", "int", -1, -8, 8, doc="Axis"),), infer=_softmax_infer("Softmax")),
    _act("ELU", "ELU", "x for x > 0, alpha·(e^x - 1) otherwise.", _nn("ELU"), (Param("alpha", "float", 1.0, 0.0, 100.0),)),
    _act("SELU", "SELU", "Scaled ELU with the self-normalising constants.", _nn("SELU")),
    _act("Softplus", "Softplus", "log(1 + e^x), a smooth ReLU.", _nn("Softplus")),
    _act("Clip", "Clip", "Clamps every value to [min, max] (ReLU6 is [0, 6]).", _clip_build,
         (Param("min", "float", -1.0), Param("max", "float", 1.0)), infer=_clip_infer),
    LayerSpec(id="PReLU", title="PReLU", category="Activation",
              doc="x for x > 0, a learned slope·x otherwise; one slope, or one per channel (axis 1).",
              params=(Param("num_parameters", "int", 1, 1, 100_000, doc="1, or the channel count"),),
              infer=_prelu_infer, cost=_elementwise_cost,
              build=lambda p, ins: Ctor(_nn_cls("PReLU"), {"num_parameters": p["num_parameters"], "init": 0.25})),
    _act("LogSoftmax", "Log softmax", "Logarithm of the softmax along one axis (for NLL losses).",
         _nn("LogSoftmax"), (Param("dim", "int", -1, -8, 8, doc="Axis"),), infer=_softmax_infer("LogSoftmax")),
)


def register(registry) -> None:
    for spec in SPECS:
        registry.add(spec)
