"""Where a run stands, in the numbers a person reads: epoch, batch, samples/s, ETA.

The command line prints them and the training panel shows them; both ask one
:class:`ProgressTracker` for a :class:`Progress`, so they never disagree, and neither
works the numbers out from the trainer's internals. The tracker does nothing per batch:
it reads the trainer's position and the history when asked.

``clock`` is the one clock of training time (the trainer's epoch seconds and the
tracker's rates): a test may replace it to make a pause last as long as it likes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from studio.training.callbacks import TrainingCallback
from studio.training.status import RunStatus

clock = time.perf_counter

_ENDINGS = {RunStatus.COMPLETED: "done", RunStatus.EARLY_STOPPING: "stopped early",
            RunStatus.STOPPED: "stopped", RunStatus.NAN: "failed", RunStatus.ERROR: "failed"}


@dataclass(frozen=True)
class Progress:
    status: RunStatus
    epoch: int  # 1-based: the epoch in progress, or the last one trained in
    epochs: int  # planned
    batch: int  # batches of that epoch done
    batches: int
    epochs_done: int  # whole epochs, as the history and the runs list count them
    samples_per_s: float | None
    eta: float | None  # seconds left; 0 once done, None when unknown or stopped

    @property
    def fraction(self) -> float:
        if self.status.finished_well:
            return 1.0
        done = self.epoch - 1 + self.batch / max(self.batches, 1)
        return min(1.0, max(0.0, done / max(self.epochs, 1)))

    def text(self) -> str:
        """``Epoch 3/15 · batch 7/23 · 1,234 samples/s · ETA 0:42``; once the run is over
        the ETA gives way to how it ended (and how many epochs it finished)."""
        rate = f"{self.samples_per_s:,.0f} samples/s" if self.samples_per_s is not None else "– samples/s"
        where = f"Epoch {self.epoch}/{self.epochs} · batch {self.batch}/{self.batches} · {rate} · "
        if self.status is RunStatus.RUNNING:
            return where + f"ETA {format_seconds(self.eta)}"
        ending = _ENDINGS[self.status]
        if self.status is not RunStatus.COMPLETED:
            ending += f" ({self.epochs_done} epoch{'s' if self.epochs_done != 1 else ''} done)"
        return where + ending


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class ProgressTracker(TrainingCallback):
    """A callback that answers :meth:`snapshot` at any point of a run, and after it."""

    def __init__(self) -> None:
        self.trainer = None
        self.epoch_started = 0.0
        self.start_batch = 0

    def on_train_start(self, trainer) -> None:
        self.trainer = trainer

    def on_train_epoch_start(self, trainer, epoch: int) -> None:
        self.epoch_started = clock()
        self.start_batch = trainer.position[1]  # a resumed run may start mid-epoch

    @property
    def batches(self) -> int:
        t = self.trainer
        return min(t.train_batches.num_batches, t.max_batches or 1 << 60) or 1

    def snapshot(self) -> Progress | None:
        """None before the run has started training (compiling, loading data)."""
        t = self.trainer
        if t is None:
            return None
        batches, history, epochs = self.batches, t.history, t.settings["epochs"]
        epoch0, batch = t.position if t.position is not None else (t.epoch, 0)
        last = history[-1] if history else None
        if last is not None and last["epoch"] == epoch0 + 1:  # the epoch is over: its own figures
            rate, elapsed = last["samples_per_s"], None
        else:
            elapsed = clock() - self.epoch_started - t.paused_seconds  # a pause is not training
            bounds = t.train_batches.bounds
            samples = (bounds[batch - 1][1] if batch else 0) - (bounds[self.start_batch - 1][1]
                                                               if self.start_batch else 0)
            rate = samples / elapsed if elapsed > 0 and samples > 0 else None
        return Progress(t.status, epoch0 + 1, epochs, batch, batches, len(history), rate,
                        self._eta(t.status, epochs - epoch0 - batch / batches, elapsed, batch, history))

    def _eta(self, status, left: float, elapsed, batch: int, history) -> float | None:
        if status.finished_well:
            return 0.0
        if status is not RunStatus.RUNNING:
            return None
        if history:  # whole epochs, validation included
            per_epoch = sum(r["seconds"] for r in history) / len(history)
        elif elapsed is not None and batch > self.start_batch:
            per_epoch = elapsed / (batch - self.start_batch) * self.batches
        else:
            return None
        return max(0.0, left * per_epoch)
