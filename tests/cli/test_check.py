"""`studio check`: exit codes, readable report, and one JSON object per line."""

from __future__ import annotations

import json
import subprocess
import sys

from studio.cli import main
from studio.resources import template_path


def test_clean_template_exits_0(capsys):
    assert main(["check", str(template_path("cnn_digits"))]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "[B, 32, 8, 8]" in out and "ready to train" in out


def test_json_lines(capsys):
    assert main(["check", str(template_path("cnn_digits")), "--json", "--batch-size", "32"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["type"] == "summary" and lines[-1]["ready"] is True and lines[-1]["batch_size"] == 32
    nodes = {x["id"]: x for x in lines if x["type"] == "node"}
    assert nodes["flatten"]["outputs"] == {"out": ["B", 256]}
    assert lines[-1]["params"] == sum(n["params"] for n in nodes.values())


def test_problems_exit_1(tmp_path, capsys):
    doc = json.loads(template_path("cnn_digits").read_text())
    doc["edges"] = [e for e in doc["edges"] if e["to"] != "classifier.in"]
    doc["edges"].append({"from": "pool2.out", "to": "classifier.in"})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert main(["check", str(path), "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    problems = [x for x in lines if x["type"] == "problem"]
    assert any(p["node"] == "classifier" and "insert Flatten" in p["message"] for p in problems)


def test_warnings_only_fail_with_strict(tmp_path):
    doc = json.loads(template_path("cnn_digits").read_text())
    doc["nodes"].append({"id": "spare", "type": "ReLU", "params": {}})
    path = tmp_path / "warn.json"
    path.write_text(json.dumps(doc))
    assert main(["check", str(path)]) == 0
    assert main(["check", str(path), "--strict"]) == 1


def test_unreadable_file_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "not valid JSON" in err
    assert main(["check", str(tmp_path / "missing.json"), "--json"]) == 2
    line = json.loads(capsys.readouterr().out)
    assert line["type"] == "error" and "no such file" in line["message"]


def test_console_entry_points():
    proc = subprocess.run([sys.executable, "-m", "studio", "check", str(template_path("lstm_sequence"))],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "lstm" in proc.stdout


def test_outputs_without_a_loss_are_ready_for_inference_with_a_note(tmp_path, capsys):
    doc = json.loads(template_path("cnn_digits").read_text())
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "loss"] + [{"id": "scores", "type": "Output", "params": {}}]
    doc["edges"] = [e for e in doc["edges"] if e["to"] != "loss.in"] + [{"from": "classifier.out", "to": "scores.in"}]
    path = tmp_path / "inference.json"
    path.write_text(json.dumps(doc))
    assert main(["check", str(path), "--strict"]) == 0  # a note, not an error nor a warning
    out = capsys.readouterr().out
    assert "note: no loss" in out and "ready for inference and export; training needs a loss" in out
    assert main(["check", str(path), "--json"]) == 0
    summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-1]
    assert summary["ready"] is False and summary["inference_ready"] is True and summary["errors"] == 0
