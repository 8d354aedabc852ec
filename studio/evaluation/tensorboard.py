"""A finished run's evaluation in its TensorBoard folder: the metrics as scalars at the
run's last epoch, the confusion matrix as an image and the per-class table as text, the
figures ``studio evaluate`` reports. Written after training by the command line and the
Python API, beside the curves the training callback wrote."""

from __future__ import annotations

from pathlib import Path


def after_training(project, trainer, result) -> str | None:
    """For a run that wrote TensorBoard files and finished well, add its evaluation; what
    went wrong, as a note, if it could not be evaluated (the run itself is fine)."""
    folder = tensorboard_folder(trainer)
    if folder is None or result is None or result.run_dir is None or not result.stopped_reason.finished_well:
        return None
    try:
        write_evaluation(project, result.run_dir, folder, len(result.history))
    except Exception as exc:  # a task evaluation does not cover: the curves are there already
        return f"the evaluation figures were not written to TensorBoard: {exc}"
    return None


def tensorboard_folder(trainer) -> Path | None:
    """Where the run's event files went (None when it wrote none)."""
    from studio.training.tensorboard import TensorBoardLogger

    return next((cb.folder for cb in trainer.callbacks if isinstance(cb, TensorBoardLogger)), None)


def write_evaluation(project, run_dir, folder, step: int) -> dict:
    """Evaluate the run on its validation split and add the figures to ``folder``;
    returns the evaluation's metrics."""
    import numpy as np
    from torch.utils.tensorboard import SummaryWriter

    from studio.evaluation import evaluate

    result = evaluate(project, run_dir, "val")
    with SummaryWriter(str(folder)) as writer:
        for name, value in result.metrics.items():
            if isinstance(value, (int, float)) and value == value:
                writer.add_scalar(f"evaluation/{name}", value, step)
        if result.confusion is not None:
            from studio.evaluation.report import matrix_image

            writer.add_image("evaluation/confusion", np.asarray(matrix_image(result.confusion)), step,
                             dataformats="HWC")
        if result.table:
            keys = list(result.table[0])
            rows = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
            rows += ["| " + " | ".join(_cell(r[k]) for k in keys) + " |" for r in result.table]
            writer.add_text("evaluation/classes", "\n".join(rows), step)
    return result.metrics


def _cell(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
