"""Training (no Qt): compile a project, load its data, train, keep the run.

``train_project(project)`` is the one call the command line, the UI worker and the
tests share; :class:`Trainer` is the loop; callbacks receive plain numbers.

The names below are loaded on first use, so the editor can import light modules of this
package (devices, runs) without importing torch at start-up.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "TrainingCallback": "studio.training.callbacks",
    "prepare": "studio.training.project",
    "train_project": "studio.training.project",
    "Control": "studio.training.trainer",
    "ProgressTracker": "studio.training.progress",
    "RunStatus": "studio.training.status",
    "RunResult": "studio.training.trainer",
    "Trainer": "studio.training.trainer",
    "TrainingError": "studio.training.trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'studio.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
