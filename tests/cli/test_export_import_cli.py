"""`studio import`: an ONNX file becomes a project plus safetensors weights; bad files exit 2."""

from __future__ import annotations

import json

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
    assert main(["export", str(out), "--weights", summary["weights"], "--format", "onnx", "--out", str(again)]) == 0
    assert again.is_file()


def test_a_truncated_file_exits_2_with_the_reason(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07\x12")
    assert main(["import", str(bad), "--out", str(tmp_path / "p.json")]) == 2
    assert "bad.onnx" in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()
