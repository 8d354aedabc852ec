"""Every import is run against onnxruntime on the source file; tolerances grow with the outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import helper
from onnx_builders import model, save

from studio.cli import main
from studio.core.project import load
from studio.export import onnx as onnx_export
from studio.export import onnx_ops
from studio.export.common import build_module
from studio.export.errors import ExportError, ImportModelError
from studio.export.onnx_import import import_onnx
from studio.export.tolerance import Difference, difference
from studio.resources import template_path

RNG = np.random.default_rng(0)


def _two_outputs():
    w = RNG.normal(size=(3, 4)).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["relu"]), helper.make_node("Sigmoid", ["h"], ["sig"])]
    return model(nodes, {"x": ["batch", 4]}, {"relu": ["batch", 3], "sig": ["batch", 3]}, initializers={"w": w})


def test_an_import_reports_how_close_it_is_to_the_source_file(registry, tmp_path):
    result = import_onnx(save(_two_outputs(), tmp_path / "m.onnx"), registry)
    assert result.check.max_abs <= 1e-5 and result.check.inputs == "a batch of 8 random samples"
    assert "matches onnxruntime on the source file" in str(result.check)


def test_an_import_that_computes_something_else_is_refused_naming_the_output(registry, tmp_path, monkeypatch):
    monkeypatch.setitem(onnx_ops.HANDLERS, "Relu", onnx_ops.activation("Tanh"))  # a wrong mapping
    with pytest.raises(ImportModelError, match=r"m.onnx: the imported graph does not compute what the file does: "
                                               r"output relu differs from onnxruntime by [0-9.e-]+ \(relative"):
        import_onnx(save(_two_outputs(), tmp_path / "m.onnx"), registry)


def test_the_command_line_prints_the_verification(tmp_path, capsys):
    path = save(_two_outputs(), tmp_path / "m.onnx")
    assert main(["import", str(path), "--out", str(tmp_path / "p.json")]) == 0
    assert "matches onnxruntime on the source file: largest difference" in capsys.readouterr().out
    assert main(["import", str(path), "--out", str(tmp_path / "q.json"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["max_diff"] <= 1e-5 and summary["max_rel_diff"] <= 1e-5
    assert summary["checked_on"] == "a batch of 8 random samples"


def test_tolerance_is_relative_to_large_outputs_and_absolute_for_small_ones():
    assert Difference(0.027, 1.2e4).within()  # ResNet-50's logits with random weights: a relative 2e-6
    assert not Difference(0.027, 1.0).within()
    assert not Difference(2e-4, 0.5).within() and Difference(5e-5, 0.5).within()
    assert not Difference(float("nan"), 1.0).within()
    d = difference(np.array([1000.0, -3.0]), np.array([1000.5, -3.0]))
    assert d.abs == 0.5 and d.magnitude == 1000.5


@pytest.mark.parametrize("relative,ok", [(1e-6, True), (1e-2, False)])
def test_the_export_check_accepts_rounding_on_large_outputs_but_not_errors(relative, ok, registry, tmp_path,
                                                                            monkeypatch):
    import torch

    project = load(template_path("cnn_digits"), registry)
    module = build_module(project.graph)
    with torch.no_grad():
        for name, t in module.named_parameters():
            if "classifier" in name:
                t.mul_(1e4)  # scores of about 1e4
    real = onnx_export.run_onnx

    def scaled(blob, feeds):  # onnxruntime's results, off by a fixed fraction of themselves
        return [o * (1 + relative) for o in real(blob, feeds)]

    monkeypatch.setattr(onnx_export, "run_onnx", scaled)
    out = tmp_path / "m.onnx"
    if ok:
        onnx_export.export_onnx(project.graph, out, module=module)
        assert out.exists()
    else:
        with pytest.raises(ExportError, match="differs from the app's model"):
            onnx_export.export_onnx(project.graph, out, module=module)
        assert not out.exists()


def test_nan_where_the_reference_has_nan_agrees_and_nan_elsewhere_does_not():
    nan = float("nan")
    assert difference(np.array([nan, 1.0]), np.array([nan, 1.0])).within()
    assert not difference(np.array([nan, 1.0]), np.array([0.0, 1.0])).within()
    assert not difference(np.array([0.0, 1.0]), np.array([nan, 1.0])).within()


def test_an_old_opset_onnxruntime_cannot_run_is_verified_by_the_reference_evaluator(registry, tmp_path):
    """onnxruntime has no kernel for Gemm before opset 7; onnx's reference evaluator has."""
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1, broadcast=1)]
    m = model(nodes, {"x": [3, 4]}, {"y": [3, 2]}, opset=6, initializers={"w": RNG.normal(size=(2, 4)).astype(
        np.float32), "b": RNG.normal(size=(2,)).astype(np.float32)}, ir_version=3)
    m.graph.input.extend([helper.make_tensor_value_info(n, 1, s) for n, s in (("w", [2, 4]), ("b", [2]))])
    result = import_onnx(save(m, tmp_path / "m.onnx"), registry)
    assert result.check.runner == "onnx's reference evaluator" and result.check.max_abs <= 1e-5
