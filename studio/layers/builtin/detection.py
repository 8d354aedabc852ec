"""Object detection: a grid head's loss and its box decoder.

The head itself is ordinary layers (a backbone of convolutions and a 1x1 Conv2d with
``5 + classes`` output channels); ``DetectionLoss`` trains it and ``DecodeBoxes`` turns
it into scored boxes for inference and export.
"""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.spec.shapes import TensorShape
from studio.layers.builtin._rules import expect_float
from studio.layers.spec import Ctor, LayerSpec, LossRole, Param, Port


def _grid(title, p, ins):
    x = ins["in"]
    expect_float(title, x)
    if x.rank != 4:
        raise ShapeError(f"{title} expects a grid head's output [B, 5 + classes, rows, cols], got {x}: "
                         "end the network with a Conv2d whose out_channels is 5 + classes")
    want = 5 + p["classes"]
    if isinstance(x.dims[1], int) and x.dims[1] != want:
        raise ShapeError(f"{title} with {p['classes']} classes needs {want} channels (objectness, 4 box values, "
                         f"{p['classes']} class scores), got {x.dims[1]}: set the last Conv2d's out_channels "
                         f"to {want}")
    return x


def _loss_infer(p, ins):
    _grid("DetectionLoss", p, ins)
    return {}


def _loss_build(p, ins):
    from studio.layers.builtin._detection_modules import DetectionLoss

    return Ctor(DetectionLoss, {"classes": p["classes"], "box_weight": p["box_weight"],
                                "noobj_weight": p["noobj_weight"]})


_CLASSES = Param("classes", "int", 3, 1, 10_000, doc="Object classes the head scores")

DETECTION_LOSS = LayerSpec(
    id="DetectionLoss", title="Detection loss", category="Loss",
    doc="YOLO-style grid loss: objectness per cell, box centre and size, class; targets are boxes "
        "(class, cx, cy, w, h as fractions; class -1 = none). Reports mAP@0.5.",
    params=(
        Param("target", "str", "boxes", doc="The dataset field holding the boxes"),
        Param("weight", "float", 1.0, 0.0, 1e6, doc="This loss's weight in the total"),
        _CLASSES,
        Param("box_weight", "float", 5.0, 0.0, 1e3, doc="Weight of the box terms against objectness and class"),
        Param("noobj_weight", "float", 0.5, 0.0, 1e3, doc="Weight of empty cells in the objectness term"),
        Param("metric", "choice", "map50", choices=("map50", "none"), doc="mAP at IoU 0.5 after NMS"),
    ),
    inputs=(Port("in", "grid head output [B, 5 + classes, rows, cols]"),), outputs=(),
    infer=_loss_infer, build=_loss_build, loss=LossRole(task="detection"),
)


def _decode_infer(p, ins):
    x = _grid("DecodeBoxes", p, ins)
    cells = x.dims[2] * x.dims[3] if all(isinstance(d, int) for d in x.dims[2:]) else "N"
    return {"out": TensorShape.of(x.dims[0], cells, 6, axes=("B", "N", "F"))}


def _decode_build(p, ins):
    from studio.layers.builtin._detection_modules import DecodeBoxes

    return Ctor(DecodeBoxes)


DECODE_BOXES = LayerSpec(
    id="DecodeBoxes", title="Decode boxes", category="Detection",
    doc="Grid head output to one scored box per cell [B, cells, 6]: score, class, x1, y1, x2, y2 "
        "(fractions of the image). Wire it to an Output for inference; NMS follows outside the model.",
    params=(_CLASSES,),
    infer=_decode_infer, build=_decode_build,
    export_notes="Plain tensor operations (sigmoid, softmax, max, stack); exports to ONNX. "
                 "Non-maximum suppression is left to the application.",
)


def register(registry) -> None:
    registry.add(DETECTION_LOSS)
    registry.add(DECODE_BOXES)
