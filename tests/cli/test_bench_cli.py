"""``studio bench``: one JSON line per device (measured, failed or absent with the
reason), results kept beside the project's runs and compared with the last bench."""

from __future__ import annotations

import json

import pytest

from studio.cli import main
from studio.core.project import load
from studio.resources import template_path

QUICK = ["--batch-sizes", "1,4", "--repeats", "2", "--round-ms", "5"]


@pytest.fixture
def project(tmp_path):
    p = load(template_path("cnn_digits"))
    p.training.update(batch_size=32)
    return p.save(tmp_path / "digits.json")


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_json_lines_saved_and_compared(project, capsys):
    assert main(["bench", str(project), "--devices", "cpu,onnxruntime:cpu", "--json", *QUICK]) == 0
    lines = _lines(capsys)
    model = lines[0]
    assert model["type"] == "model" and model["flops_per_sample"] > 0 and model["batch_sizes"] == [1, 4]
    devices = [x for x in lines if x["type"] == "device"]
    assert [d["target"]["id"] for d in devices][0] == "torch cpu 1 thread"
    cpu = devices[0]
    assert cpu["status"] == "ok" and cpu["train"]["samples_per_s"] > 0
    assert cpu["latency"]["p99_ms"] >= cpu["latency"]["p50_ms"] > 0
    assert cpu["percent_of_peak"]["inference"] > 0
    ort = next(d for d in devices if d["target"]["id"] == "onnxruntime cpu")
    assert ort["status"] == "ok" and ort["throughput"][-1]["batch_size"] == 4
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["ok"] and summary["failed"] == 0
    saved = json.loads(open(summary["saved"]).read())
    assert summary["saved"].startswith(str(project.parent / "runs" / "bench"))
    assert [t["target"]["id"] for t in saved["targets"]] == [d["target"]["id"] for d in devices]

    assert main(["bench", str(project), "--devices", "onnxruntime:cpu", "--json", *QUICK]) == 0
    lines = _lines(capsys)
    (comparison,) = [x for x in lines if x["type"] == "comparison"]
    assert comparison["target"] == "onnxruntime cpu" and comparison["with"] == summary["saved"]
    assert comparison["ratios"]["throughput_samples_per_s"] > 0


def test_a_device_asked_for_and_absent_is_listed_and_exits_1(project, capsys):
    code = main(["bench", str(project), "--devices", "cpu,xla", "--no-save", *QUICK])
    out = capsys.readouterr().out
    assert code == 1
    assert "torch xla" in out and "absent: " in out
    assert "torch cpu 1 thread " in out and "train " in out


@pytest.mark.parametrize("argv,message", [
    (["--devices", "gpu"], "'gpu' is not a device"),
    (["--batch-sizes", "0"], "out of range"),
    (["--repeats", "x"], "not a whole number"),
])
def test_bad_arguments_exit_2_in_one_line(project, capsys, argv, message):
    assert main(["bench", str(project), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_unreadable_weights_exit_2_before_measuring(project, tmp_path, capsys):
    bad = tmp_path / "w.safetensors"
    bad.write_bytes(b"not weights")
    assert main(["bench", str(project), "--weights", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and len(err.strip().splitlines()) == 1
