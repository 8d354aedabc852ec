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


LIGHT_MODELS = {  # the published classic models, as weight-light copies shipped with onnx
    "AlexNet": "light_bvlc_alexnet", "DenseNet-121": "light_densenet121", "Inception v1": "light_inception_v1",
    "Inception v2": "light_inception_v2", "ResNet-50": "light_resnet50", "ShuffleNet": "light_shufflenet",
    "SqueezeNet": "light_squeezenet", "VGG-19": "light_vgg19", "ZFNet-512": "light_zfnet512",
}


def light_model_path(name: str):
    """The shipped copy of a classic model, or None where this onnx has none."""
    from pathlib import Path

    path = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / f"{LIGHT_MODELS[name]}.onnx"
    return path if path.exists() else None


def with_random_weights(path, seed: int = 0, logits: bool = True):
    """A classic model with its weights made real: the light copies compute each weight with a
    ConstantOfShape; each becomes an initializer of random values (He-scaled, positive for
    the 1-D statistics). With ``logits``, the scores before the final Softmax become an
    output too, so that a comparison is not hidden by a saturated softmax."""
    m = onnx.load(str(path))
    rng = np.random.default_rng(seed)
    consts = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    keep = []
    for n in m.graph.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in consts:
            shape = tuple(int(d) for d in consts[n.input[0]])
            if len(shape) >= 2:
                v = rng.normal(0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
            else:
                v = rng.uniform(0.5, 1.5, shape)
            m.graph.initializer.append(numpy_helper.from_array(v.astype(np.float32), n.output[0]))
            if m.ir_version < 4:  # initializers are graph inputs too in these versions
                m.graph.input.append(helper.make_tensor_value_info(n.output[0], TensorProto.FLOAT, shape))
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    outputs = {o.name for o in m.graph.output}
    known = {vi.name: vi for vi in onnx.shape_inference.infer_shapes(m).graph.value_info}
    for n in m.graph.node:
        if logits and n.op_type == "Softmax" and n.output[0] in outputs:
            m.graph.output.append(known[n.input[0]])
    return m
