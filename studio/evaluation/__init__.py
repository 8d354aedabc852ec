"""Evaluation of trained runs (no Qt): what the model gets right and wrong on a split,
and predictions on new inputs prepared exactly as the training data was.

``evaluate(project, run, split)`` returns an :class:`EvaluationResult`; the command line
(``studio evaluate``, ``studio predict``), the report writer and the editor's panels only
present it.
"""

from studio.evaluation.result import EvaluationResult
from studio.evaluation.run import EvaluationError, LoadedRun, NotEvaluable, RunMismatch, load_run


def evaluate(project, run, split: str = "val", **kwargs) -> EvaluationResult:
    """See :func:`studio.evaluation.engine.evaluate` (imports torch)."""
    from studio.evaluation.engine import evaluate as _evaluate

    return _evaluate(project, run, split, **kwargs)


__all__ = ["EvaluationError", "EvaluationResult", "LoadedRun", "NotEvaluable", "RunMismatch", "evaluate",
           "load_run"]
