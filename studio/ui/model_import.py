"""File > Import ONNX...: an ONNX model becomes a project, its weights kept beside it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.core.errors import StudioError


def import_model(window, model_path: str | Path, project_path: str | Path) -> Path:
    """Import an ONNX file into a project (weights beside it) and open it in the window."""
    from studio.export.onnx_import import import_onnx

    result = import_onnx(model_path, window.document.graph.registry)
    path, weights = result.save(project_path)
    window.document.open(path)
    window.statusBar().showMessage(f"Imported {Path(model_path).name}: {len(result.project.graph)} nodes; "
                                   f"weights in {weights.name}", 15000)
    return path


def _ask_import(window) -> bool:
    model = QFileDialog.getOpenFileName(window, "Import ONNX model", "", "ONNX models (*.onnx)")[0]
    if not model:
        return False
    default = str(Path(model).with_suffix(".json"))
    target = QFileDialog.getSaveFileName(window, "Save the imported project as", default, "Projects (*.json)")[0]
    if not target:
        return False
    try:
        import_model(window, model, target)
    except StudioError as exc:
        QMessageBox.warning(window, "Import ONNX", str(exc))
        return False
    return True


def install(window) -> None:
    action = window.menu("&File").addAction("Import ONNX...")
    # The imported project replaces this one: unsaved changes are asked about first.
    action.triggered.connect(lambda _c=False: window.replace_document(lambda: _ask_import(window)))
    window.import_onnx_action = action
