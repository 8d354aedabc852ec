"""The README's promise for every command: exit 0 when it worked, 1 when the work found
problems or failed, 2 when the input cannot be read or the arguments are wrong; and
never a traceback, only a short message."""

from __future__ import annotations

import json
import pickle

import pytest

from studio.cli import COMMANDS, main
from studio.core.project import load
from studio.resources import template_path


def _onnx_model(path, op: str):
    """A one-operator ONNX model: x [N, 4] -> op -> y."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node(op, ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


class _Payload:
    def __reduce__(self):
        return (print, ("ran",))


@pytest.fixture
def files(tmp_path):
    project = load(template_path("cnn_digits"))
    project.training.update(batch_size=256, schedule="none")
    good = project.save(tmp_path / "good.json")
    doc = json.loads(good.read_text())
    doc["edges"] = [e for e in doc["edges"] if e["to"] != "conv2.in"]
    (tmp_path / "broken.json").write_text(json.dumps(doc))
    (tmp_path / "garbled.json").write_text("{not json")
    doc = json.loads(good.read_text())
    doc["data"] = {"dataset": "digits", "classes": 3}  # the Input wants 10 classes: a problem
    (tmp_path / "misfit.json").write_text(json.dumps(doc))
    _onnx_model(tmp_path / "relu.onnx", "Relu")
    _onnx_model(tmp_path / "sin.onnx", "Sin")  # no layer for it: the import is refused
    with open(tmp_path / "code.pt", "wb") as f:
        pickle.dump({"w": _Payload()}, f)
    _untrained_run(load(good), tmp_path / "run0")
    (tmp_path / "corrupt.png").write_bytes(b"not an image")
    from PIL import Image

    Image.new("L", (8, 8), 0).save(tmp_path / "digit.png")
    return tmp_path


def _untrained_run(project, folder):
    """A run folder as training leaves it, with the freshly built model as its best checkpoint."""
    import torch

    from studio.compile.module import compile_graph
    from studio.training.runs import RunFolder

    run = RunFolder(folder)
    folder.mkdir()
    run.write_info({"status": "completed", "settings": {"seed": 0, "val_split": 0.2},
                    "project": project.to_dict()})
    run.save_checkpoint("best", {"model": compile_graph(project.graph).state_dict(), "optimizer": {},
                                 "scheduler": {}, "epoch": 0, "batch": 0, "partial": [0.0, 0, 0.0], "rng": {},
                                 "history": []})


# command -> [(case, arguments, exit code)]; {d} is the test's folder.
CASES = {
    "check": [
        ("good", ["check", "{d}/good.json"], 0),
        ("problem", ["check", "{d}/broken.json"], 1),
        ("bad input", ["check", "{d}/garbled.json"], 2),
        ("bad argument", ["check", "{d}/good.json", "--batch-size", "0"], 2),
    ],
    "train": [
        ("good", ["train", "{d}/good.json", "--epochs", "1", "--out", "{d}/run"], 0),
        ("problem", ["train", "{d}/broken.json", "--epochs", "1", "--out", "{d}/run2"], 1),
        ("bad input", ["train", "{d}/garbled.json"], 2),
        ("bad argument", ["train", "{d}/good.json", "--out", "{d}/good.json/run"], 2),
    ],
    "export": [
        ("good", ["export", "{d}/good.json", "--format", "weights", "--out", "{d}/w.safetensors"], 0),
        ("problem", ["export", "{d}/broken.json", "--format", "weights", "--out", "{d}/b.safetensors"], 1),
        ("bad input", ["export", "{d}/good.json", "--format", "weights", "--out", "{d}/c.safetensors",
                       "--weights", "{d}/code.pt"], 2),
        ("bad argument", ["export", "{d}/good.json", "--format", "onnx", "--out", "{d}/m.onnx", "--opset", "999"], 2),
    ],
    "import": [
        ("good", ["import", "{d}/relu.onnx", "--out", "{d}/imported.json"], 0),
        ("problem", ["import", "{d}/sin.onnx", "--out", "{d}/sin.json"], 1),
        ("bad input", ["import", "{d}/garbled.json", "--out", "{d}/x.json"], 2),
        ("bad argument", ["import", "{d}/relu.onnx", "--out", "{d}"], 2),
    ],
    "devices": [
        ("good", ["devices", "--json"], 0),
        ("bad argument", ["devices", "--gpu"], 2),
    ],
    "bench": [
        ("good", ["bench", "{d}/good.json", "--devices", "onnxruntime:cpu", "--batch-sizes", "2",
                  "--repeats", "1", "--round-ms", "2", "--no-save"], 0),
        ("problem", ["bench", "{d}/broken.json", "--devices", "cpu", "--no-save"], 1),
        ("bad input", ["bench", "{d}/garbled.json"], 2),
        ("bad argument", ["bench", "{d}/good.json", "--devices", "gpu"], 2),
    ],
    "data": [
        ("good", ["data", "{d}/good.json"], 0),
        ("problem", ["data", "{d}/misfit.json"], 1),
        ("bad input", ["data", "{d}/garbled.json"], 2),
        ("bad argument", ["data", "--dataset", "nosuch"], 2),
    ],
    "evaluate": [
        ("good", ["evaluate", "{d}/good.json", "--weights", "{d}/run0", "--json"], 0),
        ("problem", ["evaluate", "{d}/broken.json", "--weights", "{d}/run0"], 1),
        ("bad input", ["evaluate", "{d}/good.json", "--weights", "{d}/nosuch"], 2),
        ("bad argument", ["evaluate", "{d}/good.json", "--weights", "{d}/run0", "--split", "train"], 2),
    ],
    "predict": [
        ("good", ["predict", "{d}/good.json", "--weights", "{d}/run0", "{d}/digit.png", "--json"], 0),
        ("problem", ["predict", "{d}/broken.json", "--weights", "{d}/run0", "x.png"], 1),
        ("bad input", ["predict", "{d}/good.json", "--weights", "{d}/run0", "{d}/corrupt.png"], 2),
        ("bad argument", ["predict", "{d}/good.json", "--weights", "{d}/run0", "x", "--top-k", "0"], 2),
    ],
}


def test_every_command_has_its_cases():
    assert set(CASES) == set(COMMANDS)


@pytest.mark.parametrize("command,case,argv,code",
                         [(c, case, argv, code) for c, rows in CASES.items() for case, argv, code in rows],
                         ids=[f"{c}-{case}" for c, rows in CASES.items() for case, _, _ in rows])
def test_exit_code_and_a_short_message(command, case, argv, code, files, capsys):
    import torch

    torch.set_num_threads(1)
    got = main([a.format(d=files) for a in argv])
    err = capsys.readouterr().err
    assert got == code, err
    assert "Traceback" not in err
    if code == 2:  # what was wrong, in one line
        assert len(err.strip().splitlines()) == 1 and err.startswith("studio"), err
