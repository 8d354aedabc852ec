import json

import pytest
import torch

from studio.training import RunResult, TrainingError, train_project


def test_training_learns_and_keeps_the_run(mlp_project, data):
    result = train_project(mlp_project, data=data, epochs=4)
    assert isinstance(result, RunResult)
    assert result.stopped_reason == "completed"
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.metrics["accuracy"] > 0.8  # well-separated blobs
    run = result.run_dir
    assert run.parent == mlp_project.path.parent / "runs"
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["settings"]["epochs"] == 4
    assert info["project"]["name"] == "mlp"
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3, 4]


def test_weights_and_checkpoints_hold_the_final_model(mlp_project, data):
    from safetensors.torch import load_file

    result = train_project(mlp_project, data=data, epochs=2)
    state = result.model.state_dict()
    saved = load_file(result.run_dir / "weights.safetensors")
    assert saved.keys() == state.keys()
    assert all(torch.equal(saved[k], state[k]) for k in state)
    last = torch.load(result.run_dir / "checkpoints/last.ckpt", weights_only=True)
    assert last["epoch"] == 2
    assert all(torch.equal(last["model"][k], state[k]) for k in state)
    best = torch.load(result.run_dir / "checkpoints/best.ckpt", weights_only=True)
    assert best["callbacks"]["checkpoint"]["best_epoch"] == result.best_epoch


def test_a_layer_that_raises_ends_the_run_naming_the_node(mlp_project, data):
    bad = data.train.fields["x"][:, :5]  # the Input expects 6 features
    data.train.fields["x"] = bad
    with pytest.raises(TrainingError, match="node 'fc1'") as info:
        train_project(mlp_project, data=data, epochs=1)
    assert info.value.result.stopped_reason == "error"
    status = json.loads((info.value.result.run_dir / "run.json").read_text())
    assert status["status"] == "error" and "fc1" in status["message"]


def test_a_missing_field_is_named(mlp_project, data):
    data.train.fields["label"] = data.train.fields.pop("y")
    with pytest.raises(Exception, match="'y'"):
        train_project(mlp_project, data=data, epochs=1)


def test_seeded_runs_are_reproducible(mlp_project, data):
    a = train_project(mlp_project, data=data, epochs=2, run_dir=None)
    b = train_project(mlp_project, data=data, epochs=2)
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_built_in_example_keeps_its_runs_in_the_user_folder(_isolated_user_dirs):
    from studio.core.project import load
    from studio.resources import template_path

    project = load(template_path("cnn_digits"))
    result = train_project(project, epochs=1, max_batches=1)
    assert _isolated_user_dirs in result.run_dir.parents
    assert result.run_dir.parent.name == "cnn_digits"
