import json

import pytest

from studio.cli import main
from studio.core.project import load
from studio.resources import template_path


@pytest.fixture
def project_file(tmp_path):
    import torch

    torch.set_num_threads(1)
    project = load(template_path("cnn_digits"))
    project.training.update(batch_size=128, schedule="none")
    path = tmp_path / "digits.json"
    project.save(path)
    return path


def json_lines(out):
    return [json.loads(x) for x in out.splitlines()]


def test_train_json_prints_each_epoch_then_a_summary(project_file, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", str(project_file), "--epochs", "2", "--out", str(run), "--json"])
    lines = json_lines(capsys.readouterr().out)
    assert code == 0
    assert [x["type"] for x in lines] == ["epoch", "epoch", "summary"]
    first = lines[0]
    assert set(first) >= {"epoch", "train_loss", "val_loss", "metrics", "samples_per_s", "seconds", "lr"}
    assert first["epoch"] == 1 and first["samples_per_s"] > 0
    recorded = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    # What is printed is what the run folder records, epoch by epoch.
    assert [(x["train_loss"], x["val_loss"], x["metrics"]) for x in lines[:2]] == [
        (r["train_loss"], r["val_loss"], r["metrics"]) for r in recorded]
    assert first["metrics"]["accuracy"] > 0.5  # ten digits: chance is 0.1
    assert first["eta"] > 0 and lines[1]["eta"] == 0  # the panel's ETA: one epoch left, then none
    summary = lines[-1]
    assert summary["status"] == "completed" and summary["epochs"] == 2
    assert summary["weights"] == str(run / "weights.safetensors") and (run / "weights.safetensors").exists()
    assert (run / "checkpoints/best.ckpt").exists()


def test_default_run_folder_is_next_to_the_project(project_file, capsys):
    assert main(["train", str(project_file), "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and "accuracy" in out
    assert [line for line in out.splitlines() if line.startswith("epoch 1/1")][0].endswith("ETA 0:00")
    runs = list((project_file.parent / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "run.json").exists()


def test_resume_continues_the_run(project_file, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(project_file), "--epochs", "1", "--out", str(run), "--json"]) == 0
    capsys.readouterr()
    assert main(["train", str(project_file), "--epochs", "2", "--resume", str(run), "--json"]) == 0
    lines = json_lines(capsys.readouterr().out)
    assert [x["epoch"] for x in lines if x["type"] == "epoch"] == [2]
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2


def test_unreadable_project_and_bad_arguments_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    assert main(["train", str(broken), "--json"]) == 2
    err = json_lines(capsys.readouterr().out)[-1]
    assert err["type"] == "error" and "broken.json" in err["message"]
    assert main(["train", str(broken), "--epochs", "0"]) == 2
    assert "--epochs" in capsys.readouterr().err


def test_unavailable_device_exits_2_with_the_reason(project_file, capsys):
    assert main(["train", str(project_file), "--device", "mps"]) == 2
    assert "mps is not available" in capsys.readouterr().err


def test_a_missing_dataset_folder_exits_2_naming_it(project_file, tmp_path, capsys):
    project = load(project_file)
    project.data = {"dataset": "image_folder", "path": "photos"}
    project.save(project_file)
    assert main(["train", str(project_file), "--json", "--out", str(tmp_path / "r")]) == 2
    err = json_lines(capsys.readouterr().out)[-1]
    assert err["type"] == "error" and str(tmp_path / "photos") in err["message"]  # beside the project
    assert not (tmp_path / "r").exists()  # no half-made run folder


def test_resume_from_a_folder_that_is_not_a_run_exits_2(project_file, tmp_path, capsys):
    assert main(["train", str(project_file), "--resume", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_a_failing_run_exits_1_with_the_message(project_file, tmp_path, capsys):
    project = load(project_file)
    project.data = {"dataset": "digits"}
    project.graph.node("image").params["channels"] = 3  # the data has 1 channel
    project.save(project_file)
    code = main(["train", str(project_file), "--epochs", "1", "--json", "--out", str(tmp_path / "r")])
    captured = capsys.readouterr()
    assert code == 1
    assert "training failed in epoch 1, batch 1" in captured.err
    assert json_lines(captured.out)[-1]["status"] == "error"


def test_devices_lists_cpu_and_absent_devices(capsys):
    assert main(["devices", "--json"]) == 0
    lines = json_lines(capsys.readouterr().out)
    devices = {x["id"]: x for x in lines if x["type"] == "device"}
    assert devices["cpu"]["available"] and devices["cpu"]["cores"] >= 1
    assert all(d["reason"] for d in devices.values() if not d["available"])
    assert lines[-1]["type"] == "summary" and "cpu" in lines[-1]["available"]
    assert main(["devices"]) == 0
    assert "cpu" in capsys.readouterr().out


def test_an_out_of_range_batch_size_is_refused_before_training(project_file, tmp_path, capsys):
    assert main(["train", str(project_file), "--batch-size", "100000000000", "--out", str(tmp_path / "r")]) == 2
    assert "--batch-size" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_resume_refuses_what_would_not_be_exact_and_names_a_corrupt_checkpoint(project_file, tmp_path, capsys):
    run = tmp_path / "run"
    project = load(project_file)
    project.training["schedule"] = "cosine"
    project.save(project_file)
    assert main(["train", str(project_file), "--epochs", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", str(project_file), "--epochs", "2", "--resume", str(run), "--json"]) == 2
    err = json_lines(capsys.readouterr().out)[-1]
    assert err["type"] == "error" and "cosine schedule was planned for 1 epochs" in err["message"]
    (run / "checkpoints/last.ckpt").write_bytes(b"\x00garbage")
    assert main(["train", str(project_file), "--resume", str(run)]) == 2
    assert "last.ckpt: its contents differ from what the run wrote" in capsys.readouterr().err
    assert json.loads((run / "run.json").read_text())["status"] == "completed"


def test_resume_says_when_the_project_changed_since_the_run(project_file, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(project_file), "--epochs", "1", "--out", str(run)]) == 0
    project = load(project_file)
    project.graph.set_params("dropout", {"p": 0.5})
    project.save(project_file)
    capsys.readouterr()
    assert main(["train", str(project_file), "--epochs", "2", "--resume", str(run), "--json"]) == 0
    lines = json_lines(capsys.readouterr().out)
    assert lines[0]["type"] == "note" and "graph changed since this run started" in lines[0]["message"]
    assert [x["type"] for x in lines[1:]] == ["epoch", "summary"]


def test_output_piped_into_head_ends_quietly_and_the_run_completes(project_file, tmp_path):
    import os
    import subprocess
    import sys

    run = tmp_path / "run"
    script = (f"import sys; from studio.cli import main; "
              f"sys.exit(main(['train', {str(project_file)!r}, '--epochs', '3', '--out', {str(run)!r}, '--json']))")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(120) == 0, err
    assert json.loads(first)["type"] == "epoch"
    assert "Traceback" not in err
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
