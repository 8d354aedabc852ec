"""Published classic models (the copies shipped with onnx, given random weights) import and
match onnxruntime on the source file. The small ones run here; all nine run in
benchmarks/onnx_import.py."""

from __future__ import annotations

import pytest
from onnx_builders import light_model_path, save, with_random_weights

from studio.export.onnx_import import import_onnx

SMALL = {"SqueezeNet": {"Concat", "MaxPool2d", "AdaptiveAvgPool2d", "Softmax"},
         "Inception v1": {"LocalResponseNorm", "AdaptiveAvgPool2d", "Concat"},
         "ShuffleNet": {"Permute", "Reshape", "AvgPool2d", "Add"}}


@pytest.mark.parametrize("name", list(SMALL))
def test_a_classic_model_imports_and_matches_onnxruntime(name, registry, tmp_path):
    path = light_model_path(name)
    if path is None:
        pytest.skip(f"this onnx package ships no copy of {name}")
    result = import_onnx(save(with_random_weights(path), tmp_path / "m.onnx"), registry)
    assert SMALL[name] <= {n.type for n in result.project.graph.nodes}
    assert result.check.max_rel <= 1e-4
    assert len([n for n in result.project.graph.nodes if n.type == "Output"]) == 2  # probabilities and logits


def test_the_shipped_copy_imports_as_it_is(registry):
    """Its weights are ConstantOfShape fills of the file's own shapes: folded into weights."""
    path = light_model_path("SqueezeNet")
    if path is None:
        pytest.skip("this onnx package ships no copy of SqueezeNet")
    result = import_onnx(path, registry)
    assert result.folded.get("ConstantOfShape") == 52 - 13 and sum(t.numel() for t in result.state.values()) > 1e6
