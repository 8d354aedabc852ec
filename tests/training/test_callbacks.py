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
