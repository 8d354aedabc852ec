"""How a run stands (no torch, no Qt: the editor and the command line read it cheaply)."""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    """How a run stands; the value is what run.json, ``--json`` and the UI read."""

    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"  # by request (Stop, Ctrl-C): resumable from its last checkpoint
    EARLY_STOPPING = "early_stopping"
    NAN = "nan"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def finished_well(self) -> bool:
        """Trained as far as it meant to (all epochs, or until it stopped improving)."""
        return self in (RunStatus.COMPLETED, RunStatus.EARLY_STOPPING)
