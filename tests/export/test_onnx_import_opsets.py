"""Operators whose meaning changed between opsets import with the meaning of the file's opset."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from onnx_builders import assert_imports_exactly, model

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("opset", [11, 13])
def test_softmax_of_an_image_follows_the_opset(op, opset, registry, tmp_path):
    """Before 13: default axis 1, one softmax over C*H*W; from 13: the last axis alone."""
    m = model([helper.make_node(op, ["x"], ["y"])], {"x": [2, 3, 4, 5]}, {"y": [2, 3, 4, 5]}, opset=opset)
    x = RNG.normal(size=(2, 3, 4, 5)).astype(np.float32)
    assert_imports_exactly(m, tmp_path, {"x": x}, registry)


@pytest.mark.parametrize("opset", [9, 13])
def test_softmax_of_scores_with_trailing_unit_axes_is_not_all_ones(opset, registry, tmp_path):
    """SqueezeNet's [1, 1000, 1, 1] output: a softmax over the last axis of size 1 gives 1.0 everywhere."""
    axis = {} if opset < 13 else {"axis": 1}  # axis 1 is the default before 13, as in the published file
    m = model([helper.make_node("Softmax", ["x"], ["y"], **axis)], {"x": [1, 10, 1, 1]}, {"y": [1, 10, 1, 1]},
              opset=opset)
    x = RNG.normal(size=(1, 10, 1, 1)).astype(np.float32)
    result = assert_imports_exactly(m, tmp_path, {"x": x}, registry)
    assert "Softmax" in {n.type for n in result.project.graph.nodes}


@pytest.mark.parametrize("opset", [11, 13])
def test_softmax_from_a_middle_axis_follows_the_opset(opset, registry, tmp_path):
    m = model([helper.make_node("Softmax", ["x"], ["y"], axis=2)], {"x": [2, 3, 4, 5]}, {"y": [2, 3, 4, 5]},
              opset=opset)
    x = RNG.normal(size=(2, 3, 4, 5)).astype(np.float32)
    assert_imports_exactly(m, tmp_path, {"x": x}, registry)


def _i64(*v):
    return np.array(v, dtype=np.int64)


def _f32(*v):
    return np.array(v, dtype=np.float32)


X = {"x": [2, 3, 4, 5]}

# operator: [(opset, nodes, outputs, initializers)] on each side of the change; the same meaning
# written the old way (attributes) and the new way (inputs).
CHANGED = {
    "Clip@11": [(10, [helper.make_node("Clip", ["x"], ["y"], min=-0.5, max=0.7)], {}),
                (11, [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], {"lo": _f32(-0.5)[0], "hi": _f32(0.7)[0]})],
    "Pad@11": [(10, [helper.make_node("Pad", ["x"], ["y"], pads=[0, 0, 1, 2, 0, 0, 2, 1], value=1.5)], {}),
               (11, [helper.make_node("Pad", ["x", "p", "v"], ["y"])],
                {"p": _i64(0, 0, 1, 2, 0, 0, 2, 1), "v": _f32(1.5)[0]}),
               (18, [helper.make_node("Pad", ["x", "p", "v", "ax"], ["y"])],
                {"p": _i64(1, 2, 2, 1), "v": _f32(1.5)[0], "ax": _i64(2, 3)})],
    "Split@13": [(11, [helper.make_node("Split", ["x"], ["a", "b"], axis=3, split=[2, 3]),
                       helper.make_node("Concat", ["b", "a"], ["y"], axis=3)], {}),
                 (13, [helper.make_node("Split", ["x", "s"], ["a", "b"], axis=3),
                       helper.make_node("Concat", ["b", "a"], ["y"], axis=3)], {"s": _i64(2, 3)}),
                 (18, [helper.make_node("Split", ["x"], ["a", "b"], axis=3, num_outputs=2),
                       helper.make_node("Concat", ["b", "a"], ["y"], axis=3)], {})],
    "ReduceMean@18": [(17, [helper.make_node("ReduceMean", ["x"], ["y"], axes=[2, 3])], {}),
                      (18, [helper.make_node("ReduceMean", ["x", "ax"], ["y"])], {"ax": _i64(2, 3)})],
    "ReduceSum@13": [(12, [helper.make_node("ReduceSum", ["x"], ["y"], axes=[1], keepdims=0)], {}),
                     (13, [helper.make_node("ReduceSum", ["x", "ax"], ["y"], keepdims=0)], {"ax": _i64(1)})],
    "Slice@10": [(9, [helper.make_node("Slice", ["x"], ["y"], starts=[1, 0], ends=[3, -1], axes=[2, 3])], {}),
                 (10, [helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])],
                  {"st": _i64(1, 0), "en": _i64(3, -1), "ax": _i64(2, 3), "sp": _i64(1, 2)})],
    "Squeeze@13": [(11, [helper.make_node("ReduceMax", ["x"], ["m"], axes=[3]),
                         helper.make_node("Squeeze", ["m"], ["y"], axes=[3])], {}),
                   (13, [helper.make_node("ReduceMax", ["x"], ["m"], axes=[3]),
                         helper.make_node("Squeeze", ["m", "ax"], ["y"])], {"ax": _i64(3)})],
    "Unsqueeze@13": [(11, [helper.make_node("Unsqueeze", ["x"], ["y"], axes=[2])], {}),
                     (13, [helper.make_node("Unsqueeze", ["x", "ax"], ["y"])], {"ax": _i64(2)})],
    "AveragePool@7": [(7, [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                            count_include_pad=1)], {}),
                      (7, [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])], {})],
    "Gemm@11": [(9, [helper.make_node("Gemm", ["f", "k", "c"], ["y"], transB=1)], {"c": _f32(*[0.0] * 4)}),
                (11, [helper.make_node("Gemm", ["f", "k"], ["y"], transB=1)], {})],
    "Dropout@12": [(11, [helper.make_node("Dropout", ["x"], ["y"], ratio=0.5)], {}),
                   (12, [helper.make_node("Dropout", ["x", "r"], ["y"])], {"r": _f32(0.5)[0]})],
}


@pytest.mark.parametrize("case", [f"{op}-opset{side[0]}-{i}" for op, sides in CHANGED.items()
                                  for i, side in enumerate(sides)])
def test_an_operator_whose_inputs_changed_imports_with_the_files_meaning(case, registry, tmp_path):
    op, rest = case.split("-opset")
    opset, nodes, inits = CHANGED[op][int(rest.rsplit("-", 1)[1])]
    if op.startswith("Gemm"):
        nodes = [helper.make_node("Flatten", ["x"], ["f"]), *nodes]
        inits = {**inits, "k": RNG.normal(size=(4, 60)).astype(np.float32)}
    import onnx

    m = model(nodes, X, {}, opset=opset, initializers=inits)
    inferred = onnx.shape_inference.infer_shapes(m).graph.value_info
    m.graph.output.append(next(vi for vi in inferred if vi.name == "y"))
    x = RNG.normal(size=(2, 3, 4, 5)).astype(np.float32)
    assert_imports_exactly(m, tmp_path, {"x": x}, registry)
