"""``studio train PROJECT``: train from the command line (also under ``torchrun``)."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from studio.cli._args import device_spec, output_problem, training_setting
from studio.cli._output import emit_json, error, say
from studio.core.errors import StudioError
from studio.training.progress import ProgressTracker, format_seconds


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="project file (.json)")
    p.add_argument("--device", type=device_spec, default=None,
                   help="auto, cpu, cuda, cuda:N, mps or xla (default: the project's)")
    p.add_argument("--epochs", type=training_setting("epochs"), default=None,
                   help="number of epochs (default: the project's)")
    p.add_argument("--batch-size", type=training_setting("batch_size"), default=None,
                   help="batch size (default: the project's)")
    p.add_argument("--out", default=None, metavar="RUNDIR", help="run folder (default: <project dir>/runs/<new>)")
    p.add_argument("--resume", default=None, metavar="RUNDIR", help="continue the run in RUNDIR from its last checkpoint")
    p.add_argument("--tensorboard", default=None, metavar="DIR",
                   help="write TensorBoard event files into DIR/<run> (needs the tensorboard package)")
    p.add_argument("--json", action="store_true", help="one JSON object per line: each epoch, then a summary")


class _Printer(ProgressTracker):
    """The epoch lines, with the numbers the training panel shows (one progress tracker).
    On a terminal a live bar (``studio.cli._progress``) follows each batch and the epoch
    lines stay above it; into a pipe or a file only the epoch lines are written."""

    def __init__(self, as_json: bool, live: bool = False) -> None:
        super().__init__()
        self.as_json = as_json
        self.live = live and not as_json
        self.bar = None

    def on_train_start(self, trainer) -> None:
        super().on_train_start(trainer)
        if trainer.rank == 0 and not self.as_json:
            where = trainer.run.path if trainer.run else "(not saved)"
            say(f"training on {trainer.device} for {trainer.settings['epochs']} epoch(s); run: {where}")
            if self.live:
                from studio.cli._progress import TrainingBar

                self.bar = TrainingBar(self)

    def on_train_epoch_start(self, trainer, epoch: int) -> None:
        super().on_train_epoch_start(trainer, epoch)
        if self.bar is not None:
            self.bar.start_epoch()

    def on_train_batch_end(self, trainer, batch: int, loss: float, size: int) -> None:
        if self.bar is not None:
            self.bar.batch_done(loss, size)

    def on_train_epoch_end(self, trainer, record: dict) -> None:
        if trainer.rank != 0:
            return
        p = self.snapshot()
        if self.as_json:
            emit_json({"type": "epoch", **{k: record[k] for k in (
                "epoch", "train_loss", "val_loss", "metrics", "samples_per_s", "seconds", "lr")}, "eta": p.eta})
            return
        val = f"  val {record['val_loss']:.4f}" if record["val_loss"] is not None else ""
        metrics = "".join(f"  {k} {v:.4f}" for k, v in record["metrics"].items() if v is not None)
        line = (f"epoch {p.epoch}/{p.epochs}  loss {record['train_loss']:.4f}{val}{metrics}"
                f"  {p.samples_per_s or 0:.0f} samples/s  {record['seconds']:.1f} s  lr {record['lr']:.3g}"
                f"  ETA {format_seconds(p.eta)}")
        if self.bar is not None:
            self.bar.line(line)
        else:
            say(line)

    def on_train_end(self, trainer) -> None:
        self._close_bar()

    def on_exception(self, trainer, error: BaseException) -> None:
        self._close_bar()

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args: argparse.Namespace) -> int:
    from studio.core.errors import BadParameter
    from studio.core.project import load
    from studio.data.base import DataError
    from studio.training import Control, TrainingError, prepare
    from studio.training.devices import DeviceError
    from studio.cli._progress import live_terminal
    from studio.training.distributed import from_env, shutdown

    rank = from_env().rank if from_env() else 0
    say = (lambda obj: emit_json(obj)) if args.json and rank == 0 else (lambda obj: None)

    def fail(code: int, message: str) -> int:
        say({"type": "error", "message": message})
        if rank == 0:
            error(message)
        return code

    if args.out is not None and args.resume is None:  # before the data is loaded
        problem = output_problem(args.out, folder=True)
        if problem:
            return fail(2, f"--out: {problem}")
    settings = None
    if args.tensorboard is not None:
        from pathlib import Path

        from studio.training.tensorboard import tensorboard_missing

        problem = tensorboard_missing() or output_problem(args.tensorboard, folder=True)
        if problem:
            return fail(2, f"--tensorboard: {problem}")
        settings = {"tensorboard": str(Path(args.tensorboard).expanduser().resolve())}
    try:
        project = load(args.project)
    except StudioError as exc:
        return fail(2, str(exc))
    device = args.device or project.training.get("device", "auto")
    control = Control()
    started = time.perf_counter()
    try:
        trainer = prepare(project, epochs=args.epochs, batch_size=args.batch_size, device=device,
                          run_dir=args.out, resume=args.resume, control=control, settings=settings,
                          callbacks=[_Printer(args.json, live=rank == 0 and not args.json and live_terminal())])
    except (DeviceError, DataError, BadParameter) as exc:  # no such device; unreadable data; bad value
        return fail(2, str(exc))
    except StudioError as exc:
        return fail(2 if args.resume else 1, str(exc))
    for note in trainer.notes:
        say({"type": "note", "message": note})
        if rank == 0:
            error(f"note: {note}")
    previous = _stop_on_interrupt(control)
    try:
        result = trainer.fit(resume=args.resume is not None)
        code = 0
    except TrainingError as exc:
        result, code = exc.result, 1
        if rank == 0:
            error(str(exc))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        shutdown()
    if rank == 0 and code == 0:
        from studio.evaluation.tensorboard import after_training

        note = after_training(project, trainer, result)
        if note:
            say({"type": "note", "message": note})
            error(f"note: {note}")
    if rank == 0:
        _summary(args, result, time.perf_counter() - started)
    return code


def _stop_on_interrupt(control):
    """First Ctrl-C stops after the current batch (and keeps a resumable checkpoint)."""
    try:
        def handler(signum, frame):
            if control.stopping:
                raise KeyboardInterrupt
            print("stopping after this batch (Ctrl-C again to abort)", file=sys.stderr, flush=True)
            control.request_stop()
        return signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        return None


def _summary(args, result, seconds: float) -> None:
    if result is None:
        return
    last = result.history[-1] if result.history else {}
    run = result.run_dir
    summary = {
        "type": "summary", "file": str(args.project), "status": result.stopped_reason, "message": result.message,
        "epochs": len(result.history), "train_loss": last.get("train_loss"), "val_loss": last.get("val_loss"),
        "metrics": last.get("metrics", {}), "best_epoch": result.best_epoch, "seconds": seconds,
        "run_dir": str(run) if run else None,
        "weights": str(run / "weights.safetensors") if run and (run / "weights.safetensors").exists() else None,
        "best_checkpoint": str(run / "checkpoints/best.ckpt") if run and (run / "checkpoints/best.ckpt").exists()
        else None,
    }
    if args.json:
        emit_json(summary)
    else:
        say(f"{result.stopped_reason}: {len(result.history)} epoch(s) in {seconds:.1f} s"
            + (f"; {result.message}" if result.message and result.stopped_reason != "error" else "")
            + (f"\nrun: {run}" if run else ""))
