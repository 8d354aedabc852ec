"""`studio export`: formats, --weights from a run folder, JSON lines, exit codes."""

from __future__ import annotations

import json

import onnxruntime as ort
import torch

from studio.cli import main
from studio.core.project import load
from studio.export.common import build_module
from studio.export.weights import save_weights
from studio.resources import template_path

torch.set_num_threads(1)


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _run_folder(tmp_path, project):
    module = build_module(project.graph)
    with torch.no_grad():
        for t in module.state_dict().values():
            if t.is_floating_point():
                t.mul_(1.5)
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    save_weights(module.state_dict(), run / "weights.safetensors")
    return run, module


def test_onnx_with_run_weights_matches_the_trained_module(tmp_path, capsys):
    project_path = template_path("cnn_digits")
    run, module = _run_folder(tmp_path, load(project_path))
    out = tmp_path / "m.onnx"
    code = main(["export", str(project_path), "--weights", str(run), "--format", "onnx", "--out", str(out),
                 "--opset", "17", "--json"])
    lines = _lines(capsys)
    assert code == 0
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["ok"] and summary["opset"] == 17
    assert summary["max_diff"] <= 1e-4 and summary["size_bytes"] == out.stat().st_size
    assert not any(x["type"] == "warning" for x in lines)
    x = torch.rand(3, 1, 8, 8)
    (got,) = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"image": x.numpy()})
    with torch.no_grad():
        assert torch.allclose(torch.from_numpy(got), module(x), atol=1e-4)


def test_without_weights_it_warns_and_still_exports(tmp_path, capsys):
    out = tmp_path / "m.ts"
    assert main(["export", str(template_path("lstm_sequence")), "--format", "torchscript", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "randomly initialised" in captured.err and "max difference" in captured.out
    scripted = torch.jit.load(str(out))
    assert scripted(torch.randn(2, 30, 1)).shape == (2, 4)


def test_pytorch_format_writes_code_and_weights(tmp_path, capsys):
    out = tmp_path / "net.py"
    assert main(["export", str(template_path("cnn_digits")), "--format", "pytorch", "--out", str(out), "--json"]) == 0
    summary = _lines(capsys)[-1]
    assert summary["files"] == [str(out), str(tmp_path / "net.pt")] and summary["max_diff"] == 0.0


def test_weights_that_do_not_fit_fail_with_the_reason(tmp_path, capsys):
    run, _ = _run_folder(tmp_path, load(template_path("lstm_sequence")))
    out = tmp_path / "m.onnx"
    code = main(["export", str(template_path("cnn_digits")), "--weights", str(run), "--format", "onnx",
                 "--out", str(out), "--json"])
    assert code == 2
    summary = _lines(capsys)[-1]
    assert summary["ok"] is False and "does not fit this graph" in summary["message"]
    assert not out.exists()


def test_a_broken_graph_fails_with_exit_1_and_writes_nothing(tmp_path, capsys):
    doc = json.loads(template_path("cnn_digits").read_text())
    doc["edges"] = [e for e in doc["edges"] if e["to"] != "conv2.in"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    out = tmp_path / "m.onnx"
    assert main(["export", str(broken), "--format", "onnx", "--out", str(out)]) == 1
    assert "conv2: input in is not connected" in capsys.readouterr().err
    assert not out.exists()


def test_an_unreadable_project_exits_2(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing.json"), "--format", "onnx", "--out", str(tmp_path / "m.onnx")]) == 2
    assert "no such file" in capsys.readouterr().err


STFT_PLUGIN = """
from studio.core.shapes import TensorShape
from studio.layers.spec import Ctor, LayerSpec


def _module():
    import torch

    class StftPower(torch.nn.Module):
        def forward(self, x):
            spec = torch.stft(x, 64, 16, window=torch.hann_window(64), return_complex=True)
            return (spec.real ** 2 + spec.imag ** 2).transpose(1, 2)

    return StftPower


def _infer(p, ins):
    s = ins["in"].dims[1]
    return {"out": TensorShape(("B", s // 16 + 1 if isinstance(s, int) else "T", 33))}


def register(registry):
    registry.add(LayerSpec(id="StftPower", title="STFT power", category="Test", doc="complex STFT",
                           infer=_infer, build=lambda p, ins: Ctor(_module())))
"""


def test_json_output_stays_clean_when_the_exporter_falls_back(tmp_path):
    """A complex STFT makes the fast exporter fail and dump its graph from C++; the export
    falls back to the dynamo exporter and stdout still holds only JSON lines."""
    import os
    import subprocess
    import sys

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "stft_power.py").write_text(STFT_PLUGIN)
    project = tmp_path / "stft.json"
    project.write_text(json.dumps({
        "format": 1, "nodes": [
            {"id": "audio", "type": "Input", "params": {"kind": "waveform", "length": 4000}},
            {"id": "spec", "type": "StftPower"},
            {"id": "out", "type": "Output"}],
        "edges": [{"from": "audio.out", "to": "spec.in"}, {"from": "spec.out", "to": "out.in"}]}))
    out = tmp_path / "stft.onnx"
    proc = subprocess.run([sys.executable, "-m", "studio", "export", str(project),
                           "--format", "onnx", "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "STUDIO_PLUGIN_PATH": str(plugins)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[-1]["exporter"] == "dynamo" and lines[-1]["max_diff"] <= 1e-4
    assert any(x.get("step") == "exporting with the dynamo exporter" for x in lines)
    assert out.is_file()


def test_a_template_exports_with_its_pretrained_body_and_says_which_nodes_are_fresh(tmp_path, capsys):
    """The weights beside a transfer template hold its body (and the head of the task it was
    trained on): they load by name and shape, as for training, and the new head is random."""
    import onnx
    from onnx import numpy_helper

    from studio.export.weights import read_state_dict
    from studio.transfer import sibling_weights

    project_path = template_path("transfer_digits")
    out = tmp_path / "m.onnx"
    assert main(["export", str(project_path), "--format", "onnx", "--out", str(out), "--json"]) == 0
    lines = _lines(capsys)
    warning = next(line for line in lines if line["type"] == "warning")
    assert warning["message"] == "starting weights loaded into conv1, conv2; randomly initialised: head"
    assert warning["transfer"]["unused"] == ["source_head"]
    assert lines[-1]["ok"] is True
    shipped = read_state_dict(sibling_weights(project_path))["layers.conv1.weight"].numpy()
    exported = [numpy_helper.to_array(t) for t in onnx.load(str(out)).graph.initializer]
    assert any(a.shape == shipped.shape and (a == shipped).all() for a in exported)


def test_the_same_file_named_elsewhere_must_still_fit_exactly(tmp_path, capsys):
    import shutil

    from studio.transfer import sibling_weights

    other = tmp_path / "body.safetensors"
    shutil.copyfile(sibling_weights(template_path("transfer_digits")), other)
    code = main(["export", str(template_path("transfer_digits")), "--weights", str(other), "--format", "onnx",
                 "--out", str(tmp_path / "m.onnx")])
    assert code == 2
    assert "does not fit this graph: missing for nodes head" in capsys.readouterr().err
