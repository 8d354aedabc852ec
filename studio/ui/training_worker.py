"""Training on a worker thread: ``train_project`` runs inside :func:`~studio.ui.workers.create_worker`.

The trainer knows no UI: a callback (the progress tracker the command line uses too)
appends plain numbers to a list per batch, and every ~50 ms the list goes out in one ``report``, so the UI thread sees a few signals a second
however fast the batches are, and it redraws from its own timer. :class:`TrainingWorker`
turns what the thread reports into the signals the training panel reads.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from studio.training import Control, TrainingError, prepare
from studio.training.outcome import describe_error
from studio.training.progress import ProgressTracker
from studio.training.status import RunStatus
from studio.ui.workers import Worker, create_worker

FLUSH_SECONDS = 0.05


class _Relay(ProgressTracker):
    """Trainer hooks -> ``(kind, value)`` reports, with per-batch numbers batched up; the
    progress is the tracker's, as the command line prints it."""

    def __init__(self, report) -> None:
        super().__init__()
        self.report = report
        self.pending: list[float] = []  # step, loss, step, loss, ...
        self.last_flush = 0.0

    def on_train_start(self, trainer) -> None:
        super().on_train_start(trainer)
        self.report(("started", {
            "run_dir": str(trainer.run.path) if trainer.run else "", "epochs": trainer.settings["epochs"],
            "batches": self.batches, "device": str(trainer.device), "first_epoch": trainer.epoch,
        }))

    def on_train_batch_end(self, trainer, batch: int, loss: float, size: int) -> None:
        self.pending += (trainer.epoch + (batch + 1) / self.batches, loss)
        now = time.perf_counter()
        if now - self.last_flush >= FLUSH_SECONDS:
            self.last_flush = now
            self.flush()

    def flush(self) -> None:
        self.flush_losses()
        self.report(("progress", self.snapshot()))

    def flush_losses(self) -> None:
        if self.pending:
            self.report(("batchLosses", self.pending))
            self.pending = []

    def on_train_epoch_end(self, trainer, record: dict) -> None:
        self.flush()
        self.report(("epochEnded", dict(record)))


def train(project, control: Control, *, report, data=None, device: str = "cpu", resume=None,
          max_batches=None) -> dict:
    """Train ``project`` (on the worker's thread); the outcome is returned, never raised."""
    relay = _Relay(report)
    outcome = {"status": RunStatus.ERROR, "message": "", "run_dir": "", "history": []}
    try:
        trainer = prepare(project, data=data, device=device, resume=resume, callbacks=[relay],
                          control=control, max_batches=max_batches)
        result = trainer.fit(resume=resume is not None)
        outcome = {"status": result.stopped_reason, "message": result.message,
                   "run_dir": str(result.run_dir or ""), "history": result.history}
    except TrainingError as exc:
        if exc.result is not None:
            outcome.update(status=exc.result.stopped_reason, run_dir=str(exc.result.run_dir or ""),
                           history=exc.result.history)
        outcome["message"] = str(exc)
        if control.stopping and exc.result is None:  # asked to stop while preparing
            outcome["status"] = RunStatus.STOPPED
        else:
            report(("errored", str(exc)))
    except Exception as exc:  # bad data, bad device: the app survives, the message shows
        outcome["message"] = describe_error(exc)
        report(("errored", outcome["message"]))
    relay.flush_losses()  # the last batches' losses, before the run's end is shown
    outcome["progress"] = relay.snapshot()  # how the run ended, in the live line's terms
    return outcome


class TrainingWorker(QObject):
    started = Signal(dict)  # run_dir, epochs, batches, device, first_epoch
    batchLosses = Signal(list)  # flat [x, loss, x, loss, ...]; x counts epochs (fractional)
    progress = Signal(object)  # a studio.training.progress.Progress
    epochEnded = Signal(dict)  # one history record
    finished = Signal(dict)  # status, message, run_dir, history, progress (None if it never began)
    errored = Signal(str)  # a run that failed; finished follows

    def __init__(self, project, *, data=None, device: str = "cpu", resume=None, max_batches=None) -> None:
        super().__init__()
        self.control = Control()
        # project is a snapshot: the editor may change its own copy meanwhile. A stop
        # asked for by the app (quitting) is the trainer's own stop flag.
        self.worker: Worker = create_worker(
            train, project, self.control, data=data, device=device, resume=resume, max_batches=max_batches,
            _report=True, _on_abort=self.control.request_stop, _name="training", _start=False,
            _connect={"yielded": self._relay, "returned": self._returned, "errored": self._crashed})

    def start(self) -> None:
        self.worker.start()

    def _relay(self, item) -> None:
        kind, value = item
        getattr(self, kind).emit(value)

    def _returned(self, outcome: dict) -> None:
        # A method, not finished.emit itself: a panel that lets go of this worker when
        # it finishes must not delete the signal's sender while it is being emitted.
        self.finished.emit(outcome)

    def _crashed(self, exc: BaseException) -> None:  # a bug in the relay itself
        self.errored.emit(describe_error(exc))
        self.finished.emit({"status": RunStatus.ERROR, "message": describe_error(exc), "run_dir": "", "history": [],
                            "progress": None})

    def stop(self) -> None:
        """Stop after this batch; the outcome ("stopped") still arrives on ``finished``."""
        self.control.request_stop()

    def pause(self) -> None:
        self.control.pause()

    def resume_run(self) -> None:
        self.control.resume()

    def wait(self, ms: int) -> bool:
        return self.worker.wait(ms)
