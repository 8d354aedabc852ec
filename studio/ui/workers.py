"""The training worker: a QObject living in a QThread that runs ``train_project``.

The trainer thread only appends numbers to a list per batch; every ~50 ms the list
goes out in one signal, so the UI thread sees a few signals a second however fast the
batches are, and it redraws from its own timer.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from studio.training import Control, TrainingError, prepare
from studio.training.outcome import describe_error
from studio.training.progress import ProgressTracker
from studio.training.status import RunStatus

FLUSH_SECONDS = 0.05


class _Relay(ProgressTracker):
    """Trainer hooks -> worker signals, with per-batch numbers batched up; the progress
    is the tracker's, as the command line prints it."""

    def __init__(self, worker: "TrainingWorker") -> None:
        super().__init__()
        self.worker = worker
        self.pending: list[float] = []  # step, loss, step, loss, ...
        self.last_flush = 0.0

    def on_train_start(self, trainer) -> None:
        super().on_train_start(trainer)
        self.worker.started.emit({
            "run_dir": str(trainer.run.path) if trainer.run else "", "epochs": trainer.settings["epochs"],
            "batches": self.batches, "device": str(trainer.device), "first_epoch": trainer.epoch,
        })

    def on_train_batch_end(self, trainer, batch: int, loss: float, size: int) -> None:
        self.pending += (trainer.epoch + (batch + 1) / self.batches, loss)
        now = time.perf_counter()
        if now - self.last_flush >= FLUSH_SECONDS:
            self.last_flush = now
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.worker.batchLosses.emit(self.pending)
            self.pending = []
        self.worker.progress.emit(self.snapshot())

    def on_train_epoch_end(self, trainer, record: dict) -> None:
        self.flush()
        self.worker.epochEnded.emit(dict(record))


class TrainingWorker(QObject):
    started = Signal(dict)  # run_dir, epochs, batches, device, first_epoch
    batchLosses = Signal(list)  # flat [x, loss, x, loss, ...]; x counts epochs (fractional)
    progress = Signal(object)  # a studio.training.progress.Progress
    epochEnded = Signal(dict)  # one history record
    finished = Signal(dict)  # status, message, run_dir, history, progress (None if it never began)
    errored = Signal(str)  # a run that failed; finished follows

    def __init__(self, project, *, data=None, device: str = "cpu", resume=None, max_batches=None) -> None:
        super().__init__()
        self.project = project  # a snapshot: the editor may change its own copy meanwhile
        self.data = data
        self.device = device
        self.resume = resume
        self.max_batches = max_batches
        self.control = Control()

    def stop(self) -> None:
        self.control.request_stop()

    def pause(self) -> None:
        self.control.pause()

    def resume_run(self) -> None:
        self.control.resume()

    @Slot()
    def run(self) -> None:
        relay = _Relay(self)
        outcome = {"status": RunStatus.ERROR, "message": "", "run_dir": "", "history": []}
        try:
            trainer = prepare(self.project, data=self.data, device=self.device, resume=self.resume,
                              callbacks=[relay], control=self.control, max_batches=self.max_batches)
            result = trainer.fit(resume=self.resume is not None)
            outcome = {"status": result.stopped_reason, "message": result.message,
                       "run_dir": str(result.run_dir or ""), "history": result.history}
        except TrainingError as exc:
            if exc.result is not None:
                outcome.update(status=exc.result.stopped_reason, run_dir=str(exc.result.run_dir or ""),
                               history=exc.result.history)
            outcome["message"] = str(exc)
            self.errored.emit(str(exc))
        except Exception as exc:  # bad data, bad device: the app survives, the message shows
            outcome["message"] = describe_error(exc)
            self.errored.emit(outcome["message"])
        if relay.pending:  # the last batches' losses, before the run's end is shown
            self.batchLosses.emit(relay.pending)
        outcome["progress"] = relay.snapshot()  # how the run ended, in the live line's terms
        self.finished.emit(outcome)


def start_worker(worker: TrainingWorker) -> QThread:
    """Run ``worker`` in a new thread that quits (and is deleted) when it finishes."""
    thread = QThread()
    thread.setObjectName("training")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct: quit() is thread-safe, and a waiting UI thread could not deliver a queued call.
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread
