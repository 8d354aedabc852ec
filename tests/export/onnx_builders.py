"""Small ONNX models built with onnx.helper, and a check that an import computes what the file does."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

from studio.export.common import build_module
from studio.export.onnx_import import import_onnx


def model(nodes, inputs, outputs, opset=13, initializers=None, ir_version=None):
    """``inputs``/``outputs``: {name: shape}; ``initializers``: {name: array}."""
    graph = helper.make_graph(
        nodes, "m", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in (initializers or {}).items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if ir_version is not None:
        m.ir_version = ir_version
    return m


def save(m, path):
    onnx.save(m, str(path))
    return path


def run_onnx(path, feeds: dict) -> list[np.ndarray]:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def assert_imports_exactly(m, tmp_path, feeds: dict, registry=None, rtol=1e-5):
    """Import ``m``, run the imported graph and onnxruntime on ``feeds``; return the import result."""
    path = save(m, tmp_path / "source.onnx")
    result = import_onnx(path, registry)
    module = build_module(result.project.graph, result.state).eval()
    with torch.no_grad():
        got = module(*[torch.from_numpy(v) for v in feeds.values()])
    got = got if isinstance(got, (tuple, list)) else [got]
    want = run_onnx(path, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g = g.numpy()
        assert g.shape == w.shape
        scale = max(1.0, float(np.abs(w).max()))
        assert np.abs(g - w).max() <= rtol * scale, (np.abs(g - w).max(), scale)
    return result
