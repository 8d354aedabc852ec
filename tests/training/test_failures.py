import json
import math

import pytest
import torch

from studio.training import TrainingCallback, TrainingError, train_project


class PoisonAt(TrainingCallback):
    """Turn a weight into NaN when epoch ``at`` starts."""

    def __init__(self, at):
        self.at = at

    def on_train_epoch_start(self, trainer, epoch):
        if epoch == self.at:
            with torch.no_grad():
                trainer.model.layers["fc2"].weight.fill_(float("nan"))


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(mlp_project, data):
    with pytest.raises(TrainingError, match=r"loss became nan in epoch 2, batch 1") as info:
        train_project(mlp_project, data=data, epochs=3, callbacks=[PoisonAt(1)])
    result = info.value.result
    assert result.stopped_reason == "nan"
    assert "last good checkpoint (epoch 1)" in str(info.value)
    assert "lower learning rate" in str(info.value)
    assert len(result.history) == 1
    last = torch.load(result.run_dir / "checkpoints/last.ckpt", weights_only=True)
    assert last["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in last["model"].values() if v.is_floating_point())
    run = json.loads((result.run_dir / "run.json").read_text())
    assert run["status"] == "nan" and "nan" in run["message"]


def test_inf_in_the_data_is_caught_on_the_first_batch(mlp_project, data):
    data.train.fields["x"][:] = float("inf")
    with pytest.raises(TrainingError, match="loss became (nan|inf) in epoch 1, batch 1"):
        train_project(mlp_project, data=data, epochs=1)


def test_a_graph_without_a_loss_cannot_train(graph, tmp_path, data):
    from studio.core.project import Project

    graph.add_node("Input", {"kind": "vector", "features": 6}, node_id="x")
    graph.add_node("Linear", {"out_features": 3}, node_id="fc")
    graph.add_node("Output", {}, node_id="out")
    graph.connect("x", "out", "fc", "in")
    graph.connect("fc", "out", "out", "in")
    with pytest.raises(TrainingError, match="loss"):
        train_project(Project(graph, path=tmp_path / "p.json"), data=data, epochs=1)


def test_early_stopping_ends_when_validation_stops_improving(mlp_project, data):
    data.val.fields["y"] = (data.val.fields["y"] + 1) % 3  # learning the train set hurts val
    mlp_project.training["early_stopping"] = 2
    result = train_project(mlp_project, data=data, epochs=20)
    assert result.stopped_reason == "early_stopping"
    assert len(result.history) == result.best_epoch + 2
    assert "no improvement for 2 epoch(s)" in result.message
    best = torch.load(result.run_dir / "checkpoints/best.ckpt", weights_only=True)
    assert best["epoch"] == result.best_epoch
    assert math.isclose(best["callbacks"]["checkpoint"]["best"], result.history[result.best_epoch - 1]["val_loss"])


def test_device_out_of_memory_suggests_a_smaller_batch(mlp_project, data):
    class OutOfMemory(TrainingCallback):
        def on_train_batch_start(self, trainer, batch):
            if batch == 2:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with pytest.raises(TrainingError, match=r"out of device memory in epoch 1, batch 3: use a smaller batch "
                                            r"size \(now 32; try 16\)"):
        train_project(mlp_project, data=data, epochs=1, callbacks=[OutOfMemory()])


def test_running_out_of_main_memory_suggests_a_smaller_batch_without_cuda_advice(mlp_project, data):
    class OutOfMemory(TrainingCallback):
        def on_train_batch_start(self, trainer, batch):
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    with pytest.raises(TrainingError, match=r"^out of memory in epoch 1, batch 1: use a smaller batch size "
                                            r"\(now 32; try 16\)$"):
        train_project(mlp_project, data=data, epochs=1, callbacks=[OutOfMemory()])


class BreakWeightsAfterLastBatch(TrainingCallback):
    """The epoch's last step leaves the weights infinite after its loss was checked."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_batch_end(self, trainer, batch, loss, size):
        if trainer.epoch == self.epoch and batch == trainer.train_batches.num_batches - 1:
            with torch.no_grad():
                trainer.model.layers["fc2"].weight.mul_(float("inf"))


def test_weights_broken_by_an_epochs_last_step_are_never_saved_as_good(mlp_project, data):
    with pytest.raises(TrainingError, match=r"validation loss became nan after epoch 2") as info:
        train_project(mlp_project, data=data, epochs=3, callbacks=[BreakWeightsAfterLastBatch(1)])
    run = info.value.result.run_dir
    assert "last good checkpoint (epoch 1)" in str(info.value)
    last = torch.load(run / "checkpoints/last.ckpt", weights_only=True)
    assert last["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in last["model"].values() if v.is_floating_point())
    for line in (run / "metrics.jsonl").read_text().splitlines():  # strict JSON: no NaN
        json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in metrics.jsonl"))


def test_without_validation_broken_weights_are_caught_too(mlp_project, data):
    mlp_project.training["val_split"] = 0.0
    data.val = None
    with pytest.raises(TrainingError, match=r"weights became non-finite in epoch 1"):
        train_project(mlp_project, data=data, epochs=2, callbacks=[BreakWeightsAfterLastBatch(0)])
