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
