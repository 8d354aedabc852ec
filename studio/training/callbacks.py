"""What the trainer tells the outside world, as plain numbers.

The hook order follows PyTorch Lightning's (``tests/training/test_callbacks.py``
records it)::

    on_fit_start
    on_train_start
      on_train_epoch_start(epoch)
        on_train_batch_start(batch) / on_train_batch_end(batch, loss, size)   per batch
        on_validation_start / on_validation_end(logs)
      on_train_epoch_end(record)          record: the epoch's dict in the history
      on_checkpoint(path, kind)           after last.ckpt / best.ckpt are written
    on_train_end                          a stop within an epoch writes last.ckpt here,
      on_checkpoint(path, "last")         after the other callbacks' on_train_end
    on_fit_end(result)
    on_exception(error)                   instead of the end hooks when a run fails

The trainer adds its own callbacks around the ones it is given: the run logger
(studio.training.runs) first, early stopping and the checkpoint
(studio.training.early_stopping, studio.training.checkpoint) last.

A callback overrides only what it needs; the trainer calls only overridden hooks, so a
hook nobody listens to costs nothing per batch. Callbacks may call
``trainer.request_stop()``, or ``trainer.stop_after_epoch(status, message)`` from
``on_train_epoch_end`` (as early stopping does).

A callback that keeps state across epochs returns it from ``state_dict()`` (tensors,
numbers, strings, lists and dicts: a checkpoint loads with ``weights_only=True``); the
checkpoint stores it under the callback's ``state_key`` and a resumed run hands it back
to ``load_state_dict`` before ``on_fit_start``, so the resumed run goes on exactly as
the uninterrupted one would.
"""

from __future__ import annotations

HOOKS = (
    "on_fit_start", "on_train_start", "on_train_epoch_start", "on_train_batch_start",
    "on_train_batch_end", "on_validation_start", "on_validation_end", "on_train_epoch_end",
    "on_checkpoint", "on_train_end", "on_fit_end", "on_exception",
)


class TrainingCallback:
    def on_fit_start(self, trainer) -> None: ...
    def on_train_start(self, trainer) -> None: ...
    def on_train_epoch_start(self, trainer, epoch: int) -> None: ...
    def on_train_batch_start(self, trainer, batch: int) -> None: ...
    def on_train_batch_end(self, trainer, batch: int, loss: float, size: int) -> None: ...
    def on_validation_start(self, trainer) -> None: ...
    def on_validation_end(self, trainer, logs: dict) -> None: ...
    def on_train_epoch_end(self, trainer, record: dict) -> None: ...
    def on_checkpoint(self, trainer, path, kind: str) -> None: ...
    def on_train_end(self, trainer) -> None: ...
    def on_fit_end(self, trainer, result) -> None: ...
    def on_exception(self, trainer, error: BaseException) -> None: ...

    @property
    def state_key(self) -> str:
        """Where the checkpoint keeps this callback's state (one callback of a class)."""
        return type(self).__name__

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


def bound_hooks(callbacks) -> dict[str, list]:
    """For each hook, the bound methods of the callbacks that override it."""
    out: dict[str, list] = {name: [] for name in HOOKS}
    for cb in callbacks:
        for name in HOOKS:
            method = getattr(cb, name, None)
            base = getattr(TrainingCallback, name)
            if method is None or getattr(method, "__func__", None) is base:
                continue
            out[name].append(method)
    return out


def monitored(record: dict) -> float:
    """The number a run improves on: the validation loss, or without validation data the
    training loss (schedules on plateau, the best checkpoint and early stopping all use it)."""
    return record["val_loss"] if record["val_loss"] is not None else record["train_loss"]
