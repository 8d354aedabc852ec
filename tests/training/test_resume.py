"""Stop, pause and resume give exactly the weights of an uninterrupted run."""

import json
import threading
import time

import pytest
import torch

from studio.training import Control, TrainingCallback, progress, train_project


class StopAt(TrainingCallback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)
        self.batches = []

    def on_train_batch_end(self, trainer, batch, loss, size):
        self.batches.append((trainer.epoch, batch))
        if (trainer.epoch, batch) == self.at:
            trainer.request_stop()


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("optimizer,schedule", [("adam", "cosine"), ("sgd", "onecycle"), ("rmsprop", "plateau")])
def test_stop_then_resume_after_restart_is_bit_identical(mlp_project, data, optimizer, schedule):
    mlp_project.training.update(optimizer=optimizer, schedule=schedule, step_size=1)
    full = train_project(mlp_project, data=data, epochs=3)

    stopper = StopAt(1, 2)
    stopped = train_project(mlp_project, data=data, epochs=3, callbacks=[stopper])
    assert stopped.stopped_reason == "stopped"
    assert stopper.batches[-1] == (1, 2)  # stopped within one batch of the request
    assert json.loads((stopped.run_dir / "run.json").read_text())["status"] == "stopped"

    torch.manual_seed(12345)  # a "restarted" process: global RNG elsewhere
    resumed = train_project(mlp_project, data=data, resume=stopped.run_dir)
    assert resumed.stopped_reason == "completed"
    assert same_weights(full.model, resumed.model)
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in full.history]
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in full.history]
    lines = (stopped.run_dir / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3


def test_resume_extends_a_finished_run(mlp_project, data):
    full = train_project(mlp_project, data=data, epochs=3)
    short = train_project(mlp_project, data=data, epochs=2)
    longer = train_project(mlp_project, data=data, epochs=3, resume=short.run_dir)
    assert [r["epoch"] for r in longer.history] == [1, 2, 3]
    assert longer.history[:2] == short.history
    assert same_weights(full.model, longer.model)  # no schedule here: extending is exact


def test_pause_holds_the_loop_and_resume_continues_exactly(mlp_project, data):
    full = train_project(mlp_project, data=data, epochs=2)
    control = Control()
    seen = []

    class PauseAt(TrainingCallback):
        def on_train_batch_end(self, trainer, batch, loss, size):
            seen.append(batch)
            if trainer.epoch == 0 and batch == 1:
                trainer.pause()

    out = {}
    thread = threading.Thread(target=lambda: out.update(r=train_project(
        mlp_project, data=data, epochs=2, callbacks=[PauseAt()], control=control)))
    thread.start()
    assert control.wait_held(30)  # the loop waits before the next batch
    assert seen == [0, 1] and thread.is_alive()  # nothing ran after the pause
    control.resume()
    thread.join(30)
    assert not thread.is_alive() and not control.held
    assert same_weights(full.model, out["r"].model)


def test_stop_while_paused_ends_the_run(mlp_project, data):
    control = Control()

    class PauseFirst(TrainingCallback):
        def on_train_batch_end(self, trainer, batch, loss, size):
            trainer.pause()

    out = {}
    thread = threading.Thread(target=lambda: out.update(r=train_project(
        mlp_project, data=data, epochs=5, callbacks=[PauseFirst()], control=control)))
    thread.start()
    assert control.wait_held(30)
    control.request_stop()
    thread.join(30)
    assert out["r"].stopped_reason == "stopped"
    assert out["r"].history == []


def test_corrupt_checkpoint_is_named(mlp_project, data):
    run = train_project(mlp_project, data=data, epochs=1).run_dir
    (run / "checkpoints/last.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception, match="last.ckpt"):
        train_project(mlp_project, data=data, resume=run, epochs=2)


def test_a_failed_resume_leaves_the_finished_run_as_it_was(mlp_project, data):
    run = train_project(mlp_project, data=data, epochs=1).run_dir
    before = (run / "run.json").read_text()
    (run / "checkpoints/last.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception, match="last.ckpt"):
        train_project(mlp_project, data=data, resume=run, epochs=2)
    assert (run / "run.json").read_text() == before  # still "completed", 1 epoch


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_a_schedule_planned_for_the_runs_length_cannot_be_extended(mlp_project, data, schedule):
    mlp_project.training["schedule"] = schedule
    run = train_project(mlp_project, data=data, epochs=2).run_dir
    with pytest.raises(Exception, match=f"{schedule} schedule was planned for 2 epochs"):
        train_project(mlp_project, data=data, resume=run, epochs=3)
    with pytest.raises(Exception, match="resumes with its own batch size"):
        train_project(mlp_project, data=data, resume=run, batch_size=16)


def test_resume_trains_the_graph_saved_with_the_run(mlp_project, data):
    full = train_project(mlp_project, data=data, epochs=3)
    stopped = train_project(mlp_project, data=data, epochs=3, callbacks=[StopAt(1, 2)])
    mlp_project.graph.set_params("drop", {"p": 0.7})  # edited after the run started
    resumed = train_project(mlp_project, data=data, resume=stopped.run_dir)
    assert same_weights(full.model, resumed.model)
    info = json.loads((stopped.run_dir / "run.json").read_text())
    assert info["project"]["nodes"][4]["params"]["p"] == 0.2


@pytest.mark.parametrize("paused", [True, False])
def test_paused_time_is_not_training_time(mlp_project, data, monkeypatch, paused):
    """An hour passes in the middle of the first epoch: while paused it is left out of the
    epoch's seconds and samples/s; while training (the control case) it is counted."""
    hour = [0.0]
    monkeypatch.setattr(progress, "clock", lambda: time.perf_counter() + hour[0])
    control = Control()

    def an_hour_later():
        if paused:
            assert control.wait_held(30)
        hour[0] += 3600
        control.resume()

    class HourAt(TrainingCallback):
        def on_train_batch_end(self, trainer, batch, loss, size):
            if trainer.epoch == 0 and batch == 1:
                if paused:
                    trainer.pause()
                    threading.Thread(target=an_hour_later).start()
                else:
                    an_hour_later()

    result = train_project(mlp_project, data=data, epochs=1, callbacks=[HourAt()], control=control)
    record = result.history[0]
    if paused:
        assert record["seconds"] < 3600
        assert record["samples_per_s"] > record["samples"] / 3600
    else:
        assert record["seconds"] > 3600
        assert record["samples_per_s"] < record["samples"] / 3600


def test_on_checkpoint_sees_the_file_written(mlp_project, data):
    seen = []

    class Look(TrainingCallback):
        def on_checkpoint(self, trainer, path, kind):
            seen.append((kind, torch.load(path, weights_only=True)["epoch"]))

    train_project(mlp_project, data=data, epochs=2, callbacks=[Look()])
    assert [k for k, _ in seen if k == "last"] == ["last", "last"]
    assert [e for k, e in seen if k == "last"] == [1, 2]
    assert all(e in (1, 2) for k, e in seen if k == "best")
