"""Progress on a terminal: a live bar while training, a spinner for long steps.

The numbers come from the one :class:`~studio.training.progress.ProgressTracker` the
training panel reads too; this module only draws them (with rich). When stdout is not a
terminal (a pipe, a file, ``--json``) nothing live is drawn and the commands print their
plain lines, so logs and scripts read what they always did.
"""

from __future__ import annotations

import contextlib
import sys
import time

# The bar is redrawn at most this often: a batch can take 50 microseconds, and asking the
# tracker for its numbers on every one would cost more than the batch.
REFRESH_SECONDS = 0.1


def live_terminal() -> bool:
    """True when stdout is a terminal that can redraw a line (not a pipe, not TERM=dumb)."""
    try:
        if not sys.stdout.isatty():
            return False
    except (AttributeError, ValueError):  # replaced or closed stdout
        return False
    from rich.console import Console

    console = Console()
    return console.is_terminal and not console.is_dumb_terminal


class TrainingBar:
    """A rich progress bar fed by a :class:`ProgressTracker`: epoch, batch, the epoch's
    running loss, samples/s and the run's ETA. ``tracker`` is the callback that owns the
    numbers; it calls :meth:`start_epoch`, :meth:`batch_done`, :meth:`line` and :meth:`close`."""

    def __init__(self, tracker) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.tracker = tracker
        self.progress = Progress(
            TextColumn("Epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[rate]} samples/s"),
            TextColumn("ETA {task.fields[eta]}"), transient=True, refresh_per_second=10)
        self.task = None
        self.loss_sum = 0.0
        self.count = 0
        self.last_draw = 0.0

    def start_epoch(self) -> None:
        self.loss_sum, self.count = 0.0, 0
        p = self.tracker.snapshot()
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("train", total=p.batches, completed=p.batch,
                                               **self._fields(p))
        else:
            self.progress.reset(self.task, total=p.batches, completed=p.batch, **self._fields(p))

    def batch_done(self, loss: float, size: int) -> None:
        self.loss_sum += loss * size
        self.count += size
        now = time.monotonic()
        if now - self.last_draw >= REFRESH_SECONDS:
            self.last_draw = now
            self._draw()

    def _draw(self) -> None:
        p = self.tracker.snapshot()
        self.progress.update(self.task, completed=p.batch, total=p.batches, **self._fields(p))

    def line(self, text: str) -> None:
        """A line that stays above the bar (an epoch's summary); the bar shows the epoch whole."""
        self._draw()
        self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()
            self.task = None

    def _fields(self, p) -> dict:
        from studio.training.progress import format_seconds

        loss = f"{self.loss_sum / self.count:.4f}" if self.count else "–"
        rate = f"{p.samples_per_s:,.0f}" if p.samples_per_s is not None else "–"
        return {"epoch": f"{p.epoch}/{p.epochs}", "loss": loss, "rate": rate, "eta": format_seconds(p.eta)}


@contextlib.contextmanager
def steps(enabled: bool):
    """A spinner naming the step in progress, for ``export`` and ``import``. Yields
    ``show(step, fraction=None)``; draws nothing unless ``enabled`` and stdout is a terminal."""
    if not (enabled and live_terminal()):
        yield lambda step, fraction=None: None
        return
    from rich.console import Console

    console = Console()
    with console.status("starting") as status:
        def show(step: str, fraction: float | None = None) -> None:
            status.update(step + (f" ({fraction:.0%})" if fraction is not None else ""))

        yield show
