"""Training (no Qt): compile a project, load its data, train, keep the run.

``train_project(project)`` is the one call the command line, the UI worker and the
tests share; :class:`Trainer` is the loop; callbacks receive plain numbers.
"""

from studio.training.callbacks import TrainingCallback
from studio.training.project import prepare, train_project
from studio.training.trainer import Control, RunResult, Trainer, TrainingError

__all__ = ["Control", "RunResult", "Trainer", "TrainingCallback", "TrainingError", "prepare", "train_project"]
