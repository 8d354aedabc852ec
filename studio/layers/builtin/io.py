"""Input and Output nodes: where data enters the graph and what the model returns."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.spec.inputs import KIND_NAMES, input_kind
from studio.spec.shapes import TensorShape
from studio.layers.builtin._rules import expect_float
from studio.layers.spec import ROLE_INPUT, ROLE_OUTPUT, Ctor, LayerSpec, LossRole, Param, Port


def input_shape(p) -> TensorShape:
    """The tensor an Input gives: its kind's shape rule (:mod:`studio.spec.inputs`)."""
    return input_kind(p["kind"]).shape(p)


def _identity_module():
    from studio.layers.modules import Identity

    return Identity


INPUT = LayerSpec(
    id="Input", title="Input", category="Input/Output",
    doc="Where a batch enters the graph: images, sequences, vectors, token ids or raw audio.",
    params=(
        Param("kind", "choice", "image", choices=KIND_NAMES, doc="What one sample is"),
        Param("field", "str", "x", doc="The dataset field this input reads"),
        Param("channels", "int", 1, 1, 4096, doc="Image channels"),
        Param("height", "int", 28, 1, 8192, doc="Image height"),
        Param("width", "int", 28, 1, 8192, doc="Image width"),
        Param("length", "int", 0, 0, 10_000_000, doc="Sequence length or audio samples (0 = variable)"),
        Param("features", "int", 16, 1, 1_000_000, doc="Features per step or per vector"),
    ),
    inputs=(),
    outputs=(Port("out"),),
    infer=lambda p, ins: {"out": input_shape(p)},
    role=ROLE_INPUT,
    legacy_ids=("InputLayer",),
)

OUTPUT = LayerSpec(
    id="Output", title="Output", category="Input/Output",
    doc="Marks a tensor the model returns without a loss (for inference and export).",
    params=(),
    inputs=(Port("in"),),
    outputs=(),
    infer=lambda p, ins: {},
    build=lambda p, ins: Ctor(_identity_module()),
    role=ROLE_OUTPUT,
)


def _loss_module(name):
    def build(p, ins):
        from studio.layers import modules

        cls = getattr(modules, name)
        if name == "CrossEntropy":
            return Ctor(cls, {"ignore_index": p["ignore_index"], "label_smoothing": p["label_smoothing"]})
        return Ctor(cls)
    return build


def _ce_infer(p, ins):
    x = ins["in"]
    expect_float("CrossEntropyLoss", x)
    if x.rank < 2:
        raise ShapeError(f"CrossEntropyLoss expects class scores [B, classes], got {x}")
    return {}


def _float_infer(title):
    def infer(p, ins):
        expect_float(title, ins["in"])
        return {}
    return infer


_TARGET = Param("target", "str", "y", doc="The dataset field holding the targets")
_WEIGHT = Param("weight", "float", 1.0, 0.0, 1e6, doc="This loss's weight in the total")

CROSS_ENTROPY = LayerSpec(
    id="CrossEntropyLoss", title="Cross-entropy loss", category="Loss",
    doc="Classification loss on raw scores (classes on the last axis); reports accuracy.",
    params=(_TARGET, _WEIGHT,
            Param("ignore_index", "int", -100, -100, 1_000_000, doc="Label to ignore (padding)"),
            Param("label_smoothing", "float", 0.0, 0.0, 0.5),
            Param("metric", "choice", "accuracy", choices=("accuracy", "exact_match", "greedy_exact_match", "none"),
                  doc="accuracy per label, or exact_match of whole sequences")),
    inputs=(Port("in", "class scores"),), outputs=(),
    infer=_ce_infer, build=_loss_module("CrossEntropy"), loss=LossRole(ignore_index="ignore_index", task="classification"),
    legacy_ids=("SoftmaxCrossEntropy", "CategoricalCrossEntropy"),
)

MSE = LayerSpec(
    id="MSELoss", title="Mean squared error", category="Loss",
    doc="Regression loss: mean of squared differences to the target.",
    params=(_TARGET, _WEIGHT,
            Param("metric", "choice", "mae", choices=("mae", "none"), doc="mae: mean absolute error")),
    inputs=(Port("in"),), outputs=(),
    infer=_float_infer("MSELoss"), build=_loss_module("MSE"), loss=LossRole(task="regression"),
    legacy_ids=("SquaredError",),
)

BCE = LayerSpec(
    id="BCELoss", title="Binary cross-entropy", category="Loss",
    doc="Two-class or multi-label loss on raw scores (the sigmoid is built in).",
    params=(_TARGET, _WEIGHT,
            Param("metric", "choice", "accuracy", choices=("accuracy", "none"),
                  doc="accuracy: share of labels on the right side of 0.5")),
    inputs=(Port("in"),), outputs=(),
    infer=_float_infer("BCELoss"), build=_loss_module("BCE"), loss=LossRole(task="binary"),
    legacy_ids=("BinaryCrossEntropy",),
)


def register(registry) -> None:
    for spec in (INPUT, OUTPUT, CROSS_ENTROPY, MSE, BCE):
        registry.add(spec)
