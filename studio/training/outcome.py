"""What a run ends with, how it is steered, and how its failures read.

:class:`Control` holds the stop and pause flags any thread may set; the trainer checks
them before every batch. :func:`describe_error` turns an exception from inside the
loop into one line naming the node, epoch and batch.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from studio.core.errors import StudioError
from studio.training.status import RunStatus


class TrainingError(StudioError):
    """A run that failed; ``result`` holds what was done before it failed."""

    def __init__(self, message: str, result: "RunResult | None" = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class RunResult:
    history: list[dict]
    metrics: dict
    run_dir: Path | None
    model: Any
    stopped_reason: RunStatus
    message: str = ""
    best_epoch: int | None = None
    settings: dict = field(default_factory=dict)


class Control:
    """Stop and pause flags, safe to set from any thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._held = threading.Event()  # the loop is waiting in a pause: no batch runs

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def held(self) -> bool:
        """Whether the loop has reached the pause and waits there (a pause takes
        effect before the next batch, not at once)."""
        return self._held.is_set()

    def wait_held(self, timeout: float | None = None) -> bool:
        return self._held.wait(timeout)

    def wait_while_paused(self) -> None:
        self._held.set()
        try:
            self._running.wait()
        finally:
            self._held.clear()


class _NonFinite(Exception):
    pass


def describe_error(exc: BaseException, trainer=None) -> str:
    """A one-line message naming the node a layer failed in, and the epoch and batch."""
    if isinstance(exc, StudioError):  # already a message for people (a bad checkpoint, ...)
        return str(exc)
    where = ""
    pos = getattr(trainer, "position", None)
    if pos is not None:
        where = f" in epoch {pos[0] + 1}, batch {pos[1] + 1}"
    if _is_oom(exc):
        bs = trainer.settings.get("batch_size") if trainer else None
        hint = f" (now {bs}; try {max(1, bs // 2)})" if bs else ""
        with contextlib.suppress(Exception):
            torch.cuda.empty_cache()
        oom = getattr(torch.cuda, "OutOfMemoryError", ())
        if isinstance(exc, oom) or getattr(getattr(trainer, "device", None), "type", "cpu") == "cuda":
            return f"out of device memory{where}: use a smaller batch size{hint} or turn on mixed precision"
        return f"out of memory{where}: use a smaller batch size{hint}"
    node = _failing_node(exc, trainer)
    what = f"{type(exc).__name__}: {exc}".strip()
    if node:
        return f"training failed{where}: node {node!r} raised {what}"
    return f"training failed{where}: {what}"


def _is_oom(exc: BaseException) -> bool:
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    text = str(exc).lower()
    return ((oom is not None and isinstance(exc, oom)) or isinstance(exc, MemoryError)
            or "out of memory" in text or "can't allocate memory" in text)


def _failing_node(exc: BaseException, trainer) -> str | None:
    """Find the node from the compiled module's forward frame in the traceback: free
    per batch, unlike a hook around every layer."""
    if trainer is None:
        return None
    names = {id(m): n for n, m in trainer.model.layers.items()}
    tb, node = exc.__traceback__, None
    while tb is not None:
        module = tb.tb_frame.f_locals.get("module") if tb.tb_frame.f_code.co_name == "forward" else None
        if module is not None and id(module) in names:
            node = names[id(module)]
        tb = tb.tb_next
    return node
