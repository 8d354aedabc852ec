"""Bad arguments and unreadable inputs: exit 2 and one line that names what is wrong,
before any work starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from studio.cli import main
from studio.resources import template_path

PROJECT = str(template_path("cnn_digits"))


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", ["check", "train"])
@pytest.mark.parametrize("value", ["9" * 400, "-5", "0", "1.5", "many"])
def test_batch_size_must_be_a_whole_number_in_range(command, value, capsys):
    assert main([command, PROJECT, f"--batch-size={value}"]) == 2
    line = _one_line(capsys)
    assert "--batch-size" in line and len(line) < 300


@pytest.mark.parametrize("opset", ["0", "999"])
def test_an_opset_that_cannot_be_written_is_refused(opset, tmp_path, capsys):
    assert main(["export", PROJECT, "--format", "onnx", "--out", str(tmp_path / "m.onnx"), "--opset", opset]) == 2
    assert "--opset" in _one_line(capsys) and not (tmp_path / "m.onnx").exists()


def test_an_opset_with_another_format_is_refused(tmp_path, capsys):
    assert main(["export", PROJECT, "--format", "weights", "--out", str(tmp_path / "w.safetensors"),
                 "--opset", "17"]) == 2
    assert "onnx format only" in _one_line(capsys)


def _bad_outs(tmp_path):
    (tmp_path / "plain").write_text("x")
    return {"a folder": str(tmp_path), "inside /proc": "/proc/studio-out/x",
            "under a regular file": str(tmp_path / "plain" / "x")}


@pytest.mark.parametrize("where", ["a folder", "inside /proc", "under a regular file"])
def test_export_and_import_refuse_an_output_they_cannot_write(where, tmp_path, capsys):
    out = _bad_outs(tmp_path)[where]
    assert main(["export", PROJECT, "--format", "weights", "--out", out]) == 2
    assert "--out" in _one_line(capsys)
    model = tmp_path / "m.onnx"
    model.write_bytes(b"not read: the output is checked first")
    assert main(["import", str(model), "--out", out]) == 2
    assert "--out" in _one_line(capsys)


@pytest.mark.parametrize("where", ["inside /proc", "under a regular file", "a file"])
def test_train_refuses_an_output_before_loading_data(where, tmp_path, capsys, monkeypatch):
    import studio.data.registry as registry

    def no_data(*args, **kwargs):
        raise AssertionError("the data was loaded before the output was checked")

    monkeypatch.setattr(registry, "load_data", no_data)
    outs = {**_bad_outs(tmp_path), "a file": str(tmp_path / "plain")}
    assert main(["train", PROJECT, "--out", outs[where]]) == 2
    assert "--out" in _one_line(capsys)


def test_train_refuses_a_folder_that_holds_a_run(tmp_path, capsys):
    (tmp_path / "run.json").write_text("{}")
    assert main(["train", PROJECT, "--out", str(tmp_path)]) == 2
    assert "--resume" in _one_line(capsys)


@pytest.mark.parametrize("device", ["", " ", "gpu", "cuda:x"])
def test_a_device_that_is_no_device_is_refused(device, capsys):
    assert main(["train", PROJECT, "--device", device]) == 2
    assert "--device" in _one_line(capsys)


def test_an_unknown_dataset_suggests_the_nearest(capsys):
    assert main(["data", "--dataset", "nosuch"]) == 2
    assert "nosuch" in _one_line(capsys)
    assert main(["data", "--dataset", "digit"]) == 2
    assert "did you mean 'digits'" in _one_line(capsys)


def test_a_first_word_that_is_neither_command_nor_file_lists_the_commands(capsys):
    assert main(["evalute", PROJECT]) == 2
    line = _one_line(capsys)
    assert "'evalute'" in line and "check, train, export, import, devices, data, bench" in line
    assert main(["chek", PROJECT]) == 2
    assert "did you mean 'check'" in _one_line(capsys)


def test_a_long_message_is_clipped(tmp_path, capsys):
    doc = json.loads(template_path("cnn_digits").read_text())
    doc["nodes"][1]["type"] = "X" * 1_000_000
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc))
    assert main(["check", str(path)]) == 2
    assert len(_one_line(capsys)) < 1000


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_devices_pipes_and_folders_are_not_read_as_projects(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for path in ("/dev/zero", "/dev/urandom", str(fifo), str(tmp_path)):
        if not os.path.exists(path):
            continue
        proc = subprocess.run([sys.executable, "-m", "studio", "check", path], capture_output=True, text=True,
                              timeout=60)  # read forever before
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and path in proc.stderr


def test_a_project_file_over_the_limit_is_refused_unread(tmp_path, capsys, monkeypatch):
    import studio.core.project as project

    monkeypatch.setattr(project, "MAX_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(" " * 1001)
    assert main(["check", str(path)]) == 2
    assert "at most 1000" in _one_line(capsys)


def test_a_checkpoint_that_holds_code_is_refused_in_one_line(tmp_path, capsys):
    import pickle

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo ran",))

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"settings": {}, "project": json.loads(template_path("cnn_digits")
                                                                                      .read_text())}))
    (run / "checkpoints" / "last.ckpt").write_bytes(pickle.dumps({"model": Payload()}))
    assert main(["train", PROJECT, "--resume", str(run)]) == 2
    line = _one_line(capsys)
    assert "last.ckpt: holds code" in line and "not loaded" in line and "weights_only" not in line


@pytest.mark.parametrize("value,words", [("abc", "not an integer"), ("-1", "-1 is not allowed"),
                                         ("2000", "2000 is not allowed")])
def test_a_dataset_option_is_checked_against_its_declaration(value, words, capsys):
    assert main(["data", "--dataset", "digits", "--set", f"per_class={value}"]) == 2
    line = _one_line(capsys)
    assert "per_class" in line and words in line
