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
    on_train_end
    on_fit_end(result)
    on_exception(error)                   instead of the end hooks when a run fails

A callback overrides only what it needs; the trainer calls only overridden hooks, so a
hook nobody listens to costs nothing per batch. Callbacks may call
``trainer.request_stop()``.
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
