"""Layer Studio from Python (a notebook, a script): the calls ``studio`` and the app make.

    import studio

    project = studio.load("cnn_digits")        # a project file, or a template's name
    project                                     # in Jupyter: the graph as SVG
    model = project.model()                     # the torch.nn.Module training uses
    data = project.data()                       # train and validation splits
    result = project.train(epochs=2)            # a run folder, as `studio train` keeps
    report = project.evaluate(result)           # what `studio evaluate` reports
    model = project.model(weights=result)       # the run's weights
    project.export("onnx", "model.onnx", weights=result)

Each method calls the function the command line calls (``studio.training.prepare``,
``studio.export.formats.export_project``, ...), so a notebook trains, checks and exports
exactly as ``studio train`` and ``studio export`` do. torch is imported by the methods
that need it, not by ``import studio``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from studio.core.project import Project as ProjectFile

__all__ = ["Project", "load", "templates"]


def templates() -> list[str]:
    """The names of the built-in templates (``studio.load(name)`` opens one)."""
    from studio.resources import template_names

    return template_names()


def load(source: str | os.PathLike | ProjectFile) -> "Project":
    """A project from a file, a template's name (``"cnn_digits"``) or a loaded project
    file. A bad file raises :class:`studio.core.errors.StudioError` naming the field."""
    from studio.core.project import load as load_file

    if isinstance(source, ProjectFile):
        return Project(source)
    path = Path(source)
    if not path.exists() and str(source) in templates():
        from studio.resources import template_path

        file = load_file(template_path(str(source)))
        file.path, file.origin = None, file.path  # a template is a starting point, not a file to overwrite
        return Project(file)
    return Project(load_file(path))


def _weights_source(weights) -> Any:
    """A run's result stands for its run folder."""
    run_dir = getattr(weights, "run_dir", None)
    return str(run_dir) if run_dir is not None else weights


class Project:
    """A project: its graph, data and training settings, and what can be done with them."""

    def __init__(self, file: ProjectFile) -> None:
        self.file = file

    # ---- what it is ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.file.name

    @property
    def graph(self):
        return self.file.graph

    @property
    def training(self) -> dict:
        """The training settings (``epochs``, ``batch_size``, ...), as in the project file."""
        return self.file.training

    def __repr__(self) -> str:
        where = self.file.source_path or "unsaved"
        return f"<studio.Project {self.name!r}: {len(self.graph)} nodes, {where}>"

    def _repr_svg_(self) -> str:
        """Jupyter shows the graph: nodes where the file puts them, shapes on the wires."""
        from studio.export.svg import graph_svg

        return graph_svg(self.graph, self.check())

    def check(self):
        """Shapes, parameters, FLOPs and problems (:class:`studio.core.analysis.Analysis`),
        as ``studio check`` prints them: ``.problems``, ``.ready``, ``.total_params``."""
        from studio.core.analysis import analyze

        return analyze(self.graph)

    def save(self, path: str | os.PathLike | None = None) -> Path:
        return self.file.save(path)

    # ---- the model and the data ---------------------------------------------------------
    def model(self, weights=None):
        """The compiled ``torch.nn.Module`` the trainer and the exports use, in eval mode.
        ``weights``: a run folder, a weights file, a state dict or a training result; by
        default the weights beside the project file, else a fresh initialisation."""
        from studio.export.common import build_module
        from studio.transfer import weights_for_export

        if weights is None:
            from studio.transfer import starting_weights_path

            start = starting_weights_path(self.file)
            weights = str(start) if start is not None else None
        weights, _ = weights_for_export(self.file, _weights_source(weights))
        return build_module(self.graph, weights)

    def data(self, seed: int | None = None, val_split: float | None = None):
        """The project's data as training loads it (:class:`studio.data.base.DataSplit`):
        ``.train`` and ``.val`` hold tensors by field (``.fields["x"]``) and index like a
        torch Dataset of dicts; ``.info`` names the task and classes. The seed and the
        validation fraction default to the project's training settings."""
        from studio.core.settings import validate_training
        from studio.data.registry import data_section, load_data

        s = validate_training(dict(self.training))
        return load_data(data_section(self.file), seed=s["seed"] if seed is None else seed,
                         val_split=s["val_split"] if val_split is None else val_split)

    # ---- training -----------------------------------------------------------------------
    def train(self, *, epochs: int | None = None, batch_size: int | None = None, device: str | None = None,
              callbacks=(), run_dir=None, resume=None, settings: dict | None = None, save: bool = True):
        """Train as ``studio train`` does and return the
        :class:`~studio.training.outcome.RunResult` (``.history``, ``.metrics``, ``.run_dir``,
        ``.model``). ``callbacks`` are :class:`studio.training.TrainingCallback` objects;
        ``settings`` overrides training settings for this run; ``save=False`` keeps no run
        folder. A failed run raises :class:`studio.training.TrainingError`."""
        from studio.training import prepare

        trainer = prepare(self.file, epochs=epochs, batch_size=batch_size,
                          device=device or self.training.get("device", "auto"), run_dir=run_dir,
                          resume=resume, callbacks=list(callbacks), settings=settings, write_files=save)
        result = trainer.fit(resume=resume is not None)
        from studio.evaluation.tensorboard import after_training

        note = after_training(self.file, trainer, result)  # TensorBoard's evaluation figures, if any
        if note:
            import warnings

            warnings.warn(note, stacklevel=2)
        return result

    # ---- evaluation ---------------------------------------------------------------------
    def evaluate(self, run, split: str = "val", *, checkpoint: str | None = None, output: str | None = None):
        """What ``studio evaluate`` reports for a run (a run folder or a training result) on
        ``split`` ("val" or "test"): :class:`studio.evaluation.EvaluationResult` with
        ``.metrics``, ``.confusion``, ``.table`` (per class) and ``.pairs`` (most confused).
        ``checkpoint``: best, last or weights (default: the best). A run of another graph
        raises :class:`studio.evaluation.RunMismatch`."""
        from studio.evaluation import evaluate

        return evaluate(self.file, _weights_source(run), split, checkpoint=checkpoint, output=output)

    # ---- export -------------------------------------------------------------------------
    def export(self, fmt: str, out: str | os.PathLike, *, weights=None, opset: int | None = None,
               exporter: str = "auto", code: bool = False):
        """Write the model as ``fmt`` (``onnx``, ``pytorch``, ``weights``, ``torchscript``,
        ``program``, ``keras``, as ``studio export --format``), checked against the app's
        model before anything is written; returns the format's report (``.to_json()``).
        ``weights`` as for :meth:`model`; ``code``: for keras, its functional-API source
        too. An export that fails its check raises :class:`studio.export.errors.ExportError`."""
        from studio.export.formats import export_project
        from studio.transfer import starting_weights_path, weights_for_export

        if weights is None:
            start = starting_weights_path(self.file)
            weights = str(start) if start is not None else None
        weights, _ = weights_for_export(self.file, _weights_source(weights))
        return export_project(self.file, fmt, out, weights=weights, opset=opset, exporter=exporter, code=code)
