"""Starting weights: File > Start from weights..., and a template's pretrained weights
kept beside the project when it is first saved.

A project's starting weights live beside its file (:func:`~studio.core.project.weights_beside`);
training starts from them and the export dialog offers them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.core.errors import StudioError
from studio.core.project import weights_beside


def template_weights_for(project) -> Path | None:
    """The weights shipped beside the file an unsaved project was made from (a template
    such as ``transfer_digits``), or None."""
    if project.path is not None or project.origin is None:
        return None
    weights = weights_beside(project.origin)
    return weights if weights.is_file() else None


class TemplateWeights(QObject):
    """A project made from a template that ships pretrained weights has no file yet, so
    they are found beside the template; on its first save they are copied beside the
    new file, where training and export look."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.pending: Path | None = None
        window.document.projectReplaced.connect(self._replaced)
        window.document.pathChanged.connect(self._saved)
        self._replaced(window.document.project)

    def _replaced(self, project) -> None:
        self.pending = template_weights_for(project)
        if self.pending is not None:
            self.window.statusBar().showMessage(
                "This template starts from pretrained weights: save the project to keep them beside it", 15000)

    def _saved(self, path) -> None:
        if self.pending is None or path is None:
            return
        target = weights_beside(path)
        if not target.exists():
            shutil.copyfile(self.pending, target)
            self.window.statusBar().showMessage(f"Pretrained weights kept beside the project: {target.name}", 15000)
        self.pending = None


def start_from_weights(window, source) -> str:
    """Make ``source``'s matching weights the project's starting point; returns the report."""
    from studio.transfer import attach_weights

    report, path = attach_weights(window.document.project, source)
    text = f"{report}\nSaved as {path.name}: training starts from these weights."
    window.statusBar().showMessage(f"{len(report.matched)} node(s) take weights from {Path(str(source)).name}", 15000)
    return text


def _ask_start_from(window) -> bool:
    source = QFileDialog.getOpenFileName(
        window, "Start from weights", "",
        "Weights or models (*.safetensors *.pt *.pth *.ckpt *.onnx);;All files (*)")[0]
    if not source:
        return False
    try:
        QMessageBox.information(window, "Start from weights", start_from_weights(window, source))
    except StudioError as exc:
        QMessageBox.warning(window, "Start from weights", str(exc))
        return False
    return True


def install(window) -> None:
    action = window.menu("&File").addAction("Start from weights...")
    action.setToolTip("Load the weights of a run, a weights file or an ONNX model into the nodes "
                      "that match by name and shape; training starts from them")
    # The weights are kept beside the saved file: unsaved changes are asked about first.
    action.triggered.connect(lambda _c=False: window.replace_document(lambda: _ask_start_from(window)))
    window.start_from_weights_action = action
    window.template_weights = TemplateWeights(window)
