"""``studio export --quantize int8`` and ``--precision fp16``: the check's figures are
printed, and what cannot work is refused in one line before any work."""

from __future__ import annotations

import json

import pytest

from studio.cli import main
from studio.core.project import load
from studio.resources import template_path


@pytest.fixture
def project(tmp_path):
    return load(template_path("cnn_digits")).save(tmp_path / "digits.json")


def test_int8_prints_both_scores_sizes_and_speeds(project, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export", str(project), "--format", "onnx", "--out", str(out), "--quantize", "int8",
                 "--calibration", "2", "--max-drop", "100"]) == 0
    text = capsys.readouterr().out
    assert out.is_file()
    assert "int8, static QDQ, weights per channel" in text
    assert "accuracy: " in text and "(int8) vs " in text and "(float), a drop of " in text
    assert "checked on 359 validation samples of digits" in text
    assert "onnxruntime CPU at batch 64: " in text


def test_fp16_json_summary(project, tmp_path, capsys):
    out = tmp_path / "h.onnx"
    assert main(["export", str(project), "--format", "onnx", "--out", str(out), "--precision", "fp16",
                 "--max-drop", "100", "--json"]) == 0
    summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-1]
    assert summary["ok"] and summary["precision"] == "fp16" and summary["size_bytes"] == out.stat().st_size
    assert summary["metric"] == "accuracy" and summary["float_metric"] is not None


@pytest.mark.parametrize("argv,message", [
    (["--format", "weights", "--quantize", "int8"], "apply to the onnx format only"),
    (["--format", "onnx", "--quantize", "int8", "--precision", "fp16"], "cannot be combined"),
    (["--format", "onnx", "--calibration", "4"], "apply with --quantize int8 or --precision fp16"),
    (["--format", "onnx", "--precision", "fp16", "--calibration", "4"], "--calibration applies to --quantize int8"),
    (["--format", "onnx", "--quantize", "int8", "--max-drop", "-1"], "out of range"),
])
def test_arguments_that_cannot_work_exit_2(project, tmp_path, capsys, argv, message):
    assert main(["export", str(project), "--out", str(tmp_path / "x.onnx"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.onnx").exists()


def test_int8_without_data_to_calibrate_on_exits_2(tmp_path, capsys):
    doc = load(template_path("cnn_digits"))
    doc.data = {}
    path = doc.save(tmp_path / "nodata.json")
    assert main(["export", str(path), "--format", "onnx", "--out", str(tmp_path / "x.onnx"),
                 "--quantize", "int8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("studio: int8 quantization calibrates on the project's training data, and there is "
                              "none to calibrate on: the project names no dataset")
