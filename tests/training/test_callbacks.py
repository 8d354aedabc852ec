import pytest

from studio.training import TrainingCallback, train_project
from studio.training.callbacks import HOOKS


class Recorder(TrainingCallback):
    def __init__(self):
        self.calls = []

    def __getattribute__(self, name):
        if name in HOOKS:
            calls = object.__getattribute__(self, "calls")

            def hook(trainer, *args):
                calls.append(name if name not in ("on_train_epoch_start", "on_train_batch_end", "on_checkpoint")
                             else f"{name}:{args[0] if name != 'on_checkpoint' else args[1]}")
            return hook
        return object.__getattribute__(self, name)


def test_hooks_run_in_lightning_order(mlp_project, data):
    rec = Recorder()
    train_project(mlp_project, data=data, epochs=2, max_batches=2, callbacks=[rec])
    epoch = lambda e: [f"on_train_epoch_start:{e}",
                       "on_train_batch_start", "on_train_batch_end:0",
                       "on_train_batch_start", "on_train_batch_end:1",
                       "on_validation_start", "on_validation_end",
                       "on_train_epoch_end", "on_checkpoint:last"]
    expected = ["on_fit_start", "on_train_start", *epoch(0), *epoch(1), "on_train_end", "on_fit_end"]
    # The best checkpoint follows the last one whenever validation improved.
    got = [c for c in rec.calls if c != "on_checkpoint:best"]
    assert got == expected
    assert "on_checkpoint:best" in rec.calls


def test_a_stop_within_an_epoch_keeps_a_checkpoint_at_the_end_of_training(mlp_project, data):
    rec = Recorder()

    class StopAtSecondBatch(TrainingCallback):
        def on_train_batch_end(self, trainer, batch, loss, size):
            if (trainer.epoch, batch) == (1, 1):
                trainer.request_stop()

    train_project(mlp_project, data=data, epochs=2, max_batches=3, callbacks=[rec, StopAtSecondBatch()])
    got = [c for c in rec.calls if c != "on_checkpoint:best"]
    assert got[got.index("on_train_epoch_start:1"):] == [
        "on_train_epoch_start:1",
        "on_train_batch_start", "on_train_batch_end:0",
        "on_train_batch_start", "on_train_batch_end:1",
        "on_train_end", "on_checkpoint:last", "on_fit_end"]


def test_failure_calls_on_exception_instead_of_the_end_hooks(mlp_project, data):
    rec = Recorder()
    data.train.fields["x"] = data.train.fields["x"][:, :4]
    try:
        train_project(mlp_project, data=data, epochs=1, callbacks=[rec])
    except Exception:
        pass
    assert rec.calls[-1] == "on_exception"
    assert "on_train_end" not in rec.calls and "on_fit_end" not in rec.calls


def test_batch_hook_receives_plain_numbers(mlp_project, data):
    seen = []

    class Losses(TrainingCallback):
        def on_train_batch_end(self, trainer, batch, loss, size):
            seen.append((batch, loss, size))

    train_project(mlp_project, data=data, epochs=1, callbacks=[Losses()])
    assert [b for b, _, _ in seen] == list(range(len(seen)))
    assert all(type(loss) is float and type(size) is int for _, loss, size in seen)
    assert sum(size for *_, size in seen) == len(data.train)


class LossSum(TrainingCallback):
    """A callback with state: the sum of every batch loss the run has seen."""

    def __init__(self, stop_at=None):
        self.total, self.batches, self.stop_at = 0.0, 0, stop_at

    def state_dict(self):
        return {"total": self.total, "batches": self.batches}

    def load_state_dict(self, state):
        self.total, self.batches = state["total"], state["batches"]

    def on_train_batch_end(self, trainer, batch, loss, size):
        self.total += loss
        self.batches += 1
        if (trainer.epoch, batch) == self.stop_at:
            trainer.request_stop()


def test_a_callbacks_state_travels_in_the_checkpoint_and_resumes_exactly(mlp_project, data):
    full = LossSum()
    train_project(mlp_project, data=data, epochs=3, callbacks=[full])

    first = LossSum(stop_at=(1, 2))
    stopped = train_project(mlp_project, data=data, epochs=3, callbacks=[first])
    assert stopped.stopped_reason == "stopped" and first.batches < full.batches
    second = LossSum()  # a new process: it knows the run only from the checkpoint
    train_project(mlp_project, data=data, resume=stopped.run_dir, callbacks=[second])
    assert (second.total, second.batches) == (full.total, full.batches)


def test_two_callbacks_keeping_state_under_one_key_are_refused(mlp_project, data):
    with pytest.raises(ValueError, match="one key"):
        train_project(mlp_project, data=data, epochs=1, callbacks=[LossSum(), LossSum()])
