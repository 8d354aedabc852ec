"""`studio import`: an ONNX file becomes a project plus safetensors weights; bad files exit 2."""

from __future__ import annotations

import json

import onnxruntime as ort
import torch

from studio.cli import main
from studio.core.project import load
from studio.export.common import build_module
from studio.export.onnx import export_onnx
from studio.resources import template_path


def test_import_writes_project_and_weights_that_export_again(tmp_path, capsys):
    project = load(template_path("lstm_sequence"))
    export_onnx(project.graph, tmp_path / "m.onnx", module=build_module(project.graph))
    out = tmp_path / "imported.json"
    assert main(["import", str(tmp_path / "m.onnx"), "--out", str(out), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    summary = lines[-1]
    assert summary["ok"] and summary["project"] == str(out)
    assert summary["weights"] == str(tmp_path / "imported.weights.safetensors")
    assert {x["layer"] for x in lines if x["type"] == "node"} == {"Input", "LSTM", "Linear", "Output"}
    again = tmp_path / "again.onnx"
    assert main(["export", str(out), "--format", "onnx", "--out", str(again), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0] == {"type": "info", "message": f"using the weights beside the project: {summary['weights']}"}
    assert not any(x["type"] == "warning" for x in lines)
    x = torch.randn(2, 30, 1)
    got = ort.InferenceSession(str(again), providers=["CPUExecutionProvider"]).run(None, {"signal": x.numpy()})[0]
    ref = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"signal": x.numpy()})[0]
    assert abs(got - ref).max() < 1e-5  # the imported weights, not a fresh initialisation


def test_a_truncated_file_exits_2_with_the_reason(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07\x12")
    assert main(["import", str(bad), "--out", str(tmp_path / "p.json")]) == 2
    assert "bad.onnx" in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()


def test_into_makes_matching_weights_the_projects_starting_point(tmp_path, capsys):
    from studio.export.weights import read_state_dict

    source = load(template_path("cnn_digits"))
    module = build_module(source.graph)
    source_path = tmp_path / "source.onnx"
    export_onnx(source.graph, source_path, module=module)
    target = load(template_path("cnn_digits"))
    target.graph.set_params("classifier", {"out_features": 4})
    target.save(tmp_path / "target.json")
    assert main(["import", str(source_path), "--into", str(tmp_path / "target.json"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert {"conv1", "conv2", "conv3"} <= set(summary["matched"]) and "classifier" in summary["skipped"]
    saved = read_state_dict(tmp_path / "target.weights.safetensors")
    assert not any(k.startswith("layers.classifier.") for k in saved)


def test_into_a_missing_project_or_from_a_broken_file_fails_with_the_reason(tmp_path, capsys):
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"\x00" * 16)
    assert main(["import", str(weights), "--into", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err
    load(template_path("cnn_digits")).save(tmp_path / "p.json")
    assert main(["import", str(weights), "--into", str(tmp_path / "p.json")]) == 2
    assert "w.safetensors: not a readable safetensors file" in capsys.readouterr().err
    assert not (tmp_path / "p.weights.safetensors").exists()
