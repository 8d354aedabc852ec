"""One progress tracker for the command line and the panel: at the end of a run its
counters agree with the history (the runs list) and say how the run ended."""

from studio.training import TrainingCallback, train_project
from studio.training.progress import Progress, ProgressTracker, format_seconds
from studio.training.status import RunStatus

BATCHES = 6  # 180 training samples in batches of 32 (conftest)


class StopAt(TrainingCallback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_train_batch_end(self, trainer, batch, loss, size):
        if (trainer.epoch, batch) == self.at:
            trainer.request_stop()


class Seen(TrainingCallback):
    def __init__(self, tracker):
        self.tracker, self.at_epoch_end = tracker, []

    def on_train_epoch_end(self, trainer, record):
        self.at_epoch_end.append(self.tracker.snapshot())


def test_a_finished_run_reads_its_last_epoch_and_batch(mlp_project, data):
    tracker = ProgressTracker()
    seen = Seen(tracker)
    result = train_project(mlp_project, data=data, epochs=3, callbacks=[tracker, seen])
    p = tracker.snapshot()
    assert (p.status, p.epoch, p.epochs, p.batch, p.batches) == (RunStatus.COMPLETED, 3, 3, BATCHES, BATCHES)
    assert p.epochs_done == len(result.history) == 3
    assert p.eta == 0 and p.fraction == 1.0
    assert p.samples_per_s == result.history[-1]["samples_per_s"]
    assert p.text().startswith("Epoch 3/3 · batch 6/6 · ") and p.text().endswith(" · done")
    # each epoch's end reads that epoch, never the next one
    assert [(s.epoch, s.batch, s.epochs_done) for s in seen.at_epoch_end] == [(1, 6, 1), (2, 6, 2), (3, 6, 3)]
    assert [s.samples_per_s for s in seen.at_epoch_end] == [r["samples_per_s"] for r in result.history]
    assert seen.at_epoch_end[0].eta > 0 and "ETA" in seen.at_epoch_end[0].text()


def test_a_stopped_run_reads_where_it_stopped_and_the_epochs_it_finished(mlp_project, data):
    tracker = ProgressTracker()
    result = train_project(mlp_project, data=data, epochs=5, callbacks=[tracker, StopAt(1, 2)])
    p = tracker.snapshot()
    assert result.stopped_reason == "stopped" and len(result.history) == 1
    assert (p.status, p.epoch, p.batch, p.epochs_done) == (RunStatus.STOPPED, 2, 3, 1)
    assert p.eta is None and "ETA" not in p.text()  # no estimate left standing
    assert p.text().startswith("Epoch 2/5 · batch 3/6 · ") and p.text().endswith("stopped (1 epoch done)")
    assert abs(p.fraction - (1 + 3 / 6) / 5) < 1e-9

    # resumed, it goes on from there and ends like any finished run
    again = ProgressTracker()
    train_project(mlp_project, data=data, resume=result.run_dir, callbacks=[again])
    p = again.snapshot()
    assert (p.status, p.epoch, p.batch, p.epochs_done) == (RunStatus.COMPLETED, 5, 6, 5)


def test_early_stopping_reads_the_epoch_it_stopped_after(mlp_project, data):
    data.val.fields["y"] = (data.val.fields["y"] + 1) % 3  # learning the train set hurts val
    mlp_project.training["early_stopping"] = 2
    tracker = ProgressTracker()
    result = train_project(mlp_project, data=data, epochs=20, callbacks=[tracker])
    p = tracker.snapshot()
    assert result.stopped_reason == "early_stopping"
    done = len(result.history)
    assert (p.epoch, p.batch, p.epochs_done, p.epochs) == (done, BATCHES, done, 20)
    assert p.fraction == 1.0 and p.text().endswith(f"stopped early ({done} epochs done)")


def test_the_text_while_running():
    p = Progress(RunStatus.RUNNING, 3, 15, 7, 23, 2, 1234.4, 125.0)
    assert p.text() == "Epoch 3/15 · batch 7/23 · 1,234 samples/s · ETA 2:05"
    assert format_seconds(3725) == "1:02:05" and format_seconds(None) == "–"
