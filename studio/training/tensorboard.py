"""TensorBoard event files for a run, written by a training callback.

Per epoch: the training and validation loss, each metric, the learning rate and
samples/s (``tensorboard --logdir DIR`` draws them); at the start, the model's graph.
The evaluation of a finished run (its confusion matrix, metrics and per-class table) is
added by :func:`studio.evaluation.tensorboard.write_evaluation`, which the command line and
the Python API call after training (evaluation sits above training). A run writes into
``DIR/<run folder's name>`` (or ``DIR`` for a run kept nowhere), so
the runs of a project sit side by side in one TensorBoard. The run folder keeps its own
files as before; these are a copy for TensorBoard.

``torch.utils.tensorboard`` needs the ``tensorboard`` package, an optional extra:
``pip install -e ".[tensorboard]"``.
"""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import BadParameter
from studio.training.callbacks import TrainingCallback

INSTALL = 'pip install -e ".[tensorboard]" (or pip install tensorboard)'


def tensorboard_missing() -> str | None:
    """Why TensorBoard files cannot be written here, or None."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        return f"writing TensorBoard files needs the tensorboard package: {INSTALL}"
    return None


def check_available() -> None:
    """Raise :class:`BadParameter` (for ``training.tensorboard``) when tensorboard is absent."""
    problem = tensorboard_missing()
    if problem:
        raise BadParameter("training", "tensorboard", problem)


class TensorBoardLogger(TrainingCallback):
    def __init__(self, logdir: str | Path) -> None:
        check_available()
        self.root = Path(logdir)
        self.writer = None
        self.folder: Path | None = None  # this run's event files, once it has started

    def on_train_start(self, trainer) -> None:
        if trainer.rank != 0:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.folder = self.root / trainer.run.path.name if trainer.run is not None else self.root
        self.writer = SummaryWriter(str(self.folder))
        self._graph(trainer)

    def _graph(self, trainer) -> None:
        """The model's graph, traced on zeros in eval mode: no random numbers are drawn and
        no BatchNorm statistics move, so a run with TensorBoard trains exactly as one without."""
        import torch

        model = trainer.model
        was_training = model.training
        inputs = tuple(x.to(trainer.device) for x in model.example_inputs(batch=2, zeros=True))
        model.eval()
        try:
            with torch.no_grad():
                self.writer.add_graph(model, inputs)
        except Exception as exc:  # a graph the tracer cannot follow: the scalars still come
            self.writer.add_text("graph", f"the graph could not be traced: {exc}")
        finally:
            model.train(was_training)

    def on_train_epoch_end(self, trainer, record: dict) -> None:
        if self.writer is None:
            return
        step, add = record["epoch"], self.writer.add_scalar
        add("loss/train", record["train_loss"], step)
        if record["val_loss"] is not None:
            add("loss/val", record["val_loss"], step)
        for name, value in record["metrics"].items():
            if value is not None:
                add(f"metrics/{name}", value, step)
        add("learning_rate", record["lr"], step)
        if record["samples_per_s"] is not None:
            add("samples_per_s", record["samples_per_s"], step)
        self.writer.flush()

    def on_fit_end(self, trainer, result) -> None:
        self._close()

    def on_exception(self, trainer, error: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
