"""Background work for the UI: one helper, in the manner of superqt's ``create_worker``.

Work is a plain function or a generator function; it runs on a thread of its own and
the UI thread hears about it only through signals::

    worker = create_worker(load, config, _connect={"returned": show, "errored": fail})

- ``started`` when the work begins;
- ``yielded(value)`` for each value a generator yields, or that a function passes to
  ``report`` (work that runs someone else's loop, such as the trainer's callbacks or an
  exporter's progress function, cannot yield: with ``_report=True`` it is called with
  ``report=`` the worker's :meth:`Worker.report`);
- ``returned(value)`` with the return value, or ``aborted`` instead when ``abort()`` was
  called: a generator stops at its next ``yield``; a function sees ``abort_requested``
  or an ``_on_abort`` hook (the trainer's stop flag);
- ``errored(exception)`` when the work raises;
- ``finished`` last, always.

The app never waits for a thread that has nothing to do: a worker's thread ends with
its work. When the app quits it asks the workers still running to abort and waits for
them (a thread still inside torch when the interpreter exits aborts the process).
"""

from __future__ import annotations

import inspect
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from studio.core.errors import StudioError

QUIT_WAIT_MS = 30_000

_RUNNING: set["Worker"] = set()  # kept alive until their thread ends, even if their owner is gone
_quit_hook = False


class _Thread(QThread):
    def __init__(self, worker: "Worker") -> None:
        super().__init__()
        self.worker = worker

    def run(self) -> None:
        self.worker.work()


class Worker(QObject):
    """Runs ``func(*args, **kwargs)`` on its own thread once ``start()`` is called."""

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    aborted = Signal()
    errored = Signal(object)  # the exception
    finished = Signal()

    def __init__(self, func: Callable, *args, _on_abort: Callable[[], Any] | None = None, _name: str = "",
                 _report: bool = False, **kwargs) -> None:
        super().__init__()
        self.func, self.args, self.kwargs = func, args, kwargs
        if _report:
            self.kwargs["report"] = self.report
        self.on_abort = _on_abort
        self.name = _name or getattr(func, "__name__", "worker")
        self._abort = threading.Event()
        self._thread: _Thread | None = None
        self._ended = False

    # ---- from the UI thread -----------------------------------------------------------
    def start(self) -> "Worker":
        if self._thread is not None:
            raise RuntimeError(f"worker {self.name!r} was already started")
        _watch_quit()
        self._thread = _Thread(self)
        self._thread.setObjectName(self.name)
        self._thread.finished.connect(self._thread_ended)
        _RUNNING.add(self)
        self._thread.start()
        return self

    def abort(self) -> None:
        """Ask the work to stop; ``aborted`` then comes instead of ``returned``."""
        self._abort.set()
        if self.on_abort is not None:
            self.on_abort()

    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and not self._ended

    def wait(self, ms: int = QUIT_WAIT_MS) -> bool:
        """Block until the thread ends (closing a window, quitting); True when it did."""
        return self._thread is None or self._thread.wait(ms)

    # ---- on the worker's thread ---------------------------------------------------------
    def report(self, value) -> None:
        """Hand ``value`` to the UI thread as ``yielded``: what a function does instead of yielding."""
        if not self.abort_requested:
            self.yielded.emit(value)

    def work(self) -> None:
        self.started.emit()
        try:
            result = self.func(*self.args, **self.kwargs)
            if inspect.isgenerator(result):
                result = self._drain(result)
            if self.abort_requested:
                self.aborted.emit()
            else:
                self.returned.emit(result)
        except Exception as exc:  # the UI shows it; the app survives
            if not isinstance(exc, StudioError):  # a bug: keep its traceback for the report
                traceback.print_exc()
            self.errored.emit(exc)
        finally:
            self.finished.emit()

    def _drain(self, gen):
        while True:
            if self.abort_requested:
                gen.close()
                return None
            try:
                value = next(gen)
            except StopIteration as stop:
                return stop.value
            self.report(value)

    @Slot()
    def _thread_ended(self) -> None:
        self._thread.wait()  # returns at once: the thread has left run()
        self._ended = True
        # Let go on the next turn of the event loop: dropping the last reference here
        # would delete the thread while it is still emitting this very signal.
        QTimer.singleShot(0, lambda: _RUNNING.discard(self))


def create_worker(func: Callable, *args, _connect: dict[str, Callable] | None = None, _start: bool = True,
                  **kwargs) -> Worker:
    """A :class:`Worker` for ``func``, its signals connected from ``_connect`` (signal name
    to slot) before it starts, so no signal can be missed."""
    worker = Worker(func, *args, **kwargs)
    for name, slot in (_connect or {}).items():
        getattr(worker, name).connect(slot)
    if _start:
        worker.start()
    return worker


def running_workers() -> list[Worker]:
    return [w for w in _RUNNING if w.is_running]


def stop_all(ms: int = QUIT_WAIT_MS) -> None:
    """Abort every running worker and wait for each (the app is quitting)."""
    workers = running_workers()
    for worker in workers:
        worker.abort()
    for worker in workers:
        worker.wait(ms)


def _watch_quit() -> None:
    global _quit_hook
    app = QCoreApplication.instance()
    if not _quit_hook and app is not None:
        app.aboutToQuit.connect(stop_all)
        _quit_hook = True
