"""TensorBoard event files from a run, read back with tensorboard's own reader."""

import sys

import pytest

from studio.cli import main
from studio.core.project import load
from studio.resources import template_path
from studio.training import train_project


@pytest.fixture
def project(tmp_path):
    import torch

    torch.set_num_threads(1)
    project = load(template_path("cnn_digits"))
    project.training.update(batch_size=128, schedule="none")
    project.path = tmp_path / "digits.json"
    project.save()
    return project


def read_events(folder):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return acc


def test_a_run_writes_losses_metrics_learning_rate_and_the_graph(project, tmp_path):
    pytest.importorskip("tensorboard")
    project.training["tensorboard"] = "tb"  # read from the project file's folder
    result = train_project(project, epochs=2, run_dir=tmp_path / "runs" / "first")
    acc = read_events(tmp_path / "tb" / "first")
    tags = acc.Tags()["scalars"]
    assert {"loss/train", "loss/val", "metrics/accuracy", "learning_rate", "samples_per_s"} <= set(tags)
    for tag, key in (("loss/train", "train_loss"), ("loss/val", "val_loss"), ("learning_rate", "lr")):
        events = acc.Scalars(tag)
        assert [e.step for e in events] == [1, 2]
        assert [e.value for e in events] == pytest.approx([r[key] for r in result.history], rel=1e-6)
    assert [e.value for e in acc.Scalars("metrics/accuracy")] == pytest.approx(
        [r["metrics"]["accuracy"] for r in result.history], rel=1e-6)
    graph = acc.Graph()  # the model's layers, as TensorBoard's graph tab shows them
    assert any("conv1" in node.name for node in graph.node)
    assert (tmp_path / "runs" / "first" / "metrics.jsonl").is_file()  # the run keeps its own files


def test_writing_the_event_files_leaves_training_exactly_as_without(project, tmp_path):
    import torch

    pytest.importorskip("tensorboard")
    plain = train_project(project, epochs=1, max_batches=4, run_dir=tmp_path / "a")
    with_tb = train_project(project, epochs=1, max_batches=4, run_dir=tmp_path / "b",
                            settings={"tensorboard": str(tmp_path / "tb")})
    a, b = plain.model.state_dict(), with_tb.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_studio_train_tensorboard_writes_into_the_folder_given(project, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    code = main(["train", str(project.path), "--epochs", "1", "--out", str(tmp_path / "run"),
                 "--tensorboard", str(tmp_path / "logs"), "--json"])
    assert code == 0, capsys.readouterr().err
    acc = read_events(tmp_path / "logs" / "run")
    assert [e.step for e in acc.Scalars("loss/train")] == [1]
    # At the end, the run's evaluation: studio evaluate's figures beside the curves.
    evaluated = acc.Scalars("evaluation/accuracy")
    assert [e.step for e in evaluated] == [1]
    assert evaluated[0].value == pytest.approx(acc.Scalars("metrics/accuracy")[0].value, abs=1e-6)
    assert acc.Tags()["images"] == ["evaluation/confusion"]
    image = acc.Images("evaluation/confusion")[0]
    assert image.width == image.height > 0  # one block per class, ten classes


def test_without_tensorboard_installed_the_command_says_what_to_install(project, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    code = main(["train", str(project.path), "--epochs", "1", "--out", str(tmp_path / "run"),
                 "--tensorboard", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert code == 2
    assert 'pip install -e ".[tensorboard]"' in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()
    # The setting in the project file says the same, naming the setting.
    project.training["tensorboard"] = "logs"
    project.save()
    code = main(["train", str(project.path), "--epochs", "1", "--out", str(tmp_path / "run2")])
    err = capsys.readouterr().err
    assert code == 2 and "training.tensorboard" in err and "pip install" in err
