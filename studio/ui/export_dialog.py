"""File > Export... and File > Import ONNX...: the export runs in a thread, with a
progress bar, and the check's result (largest difference, file size, opset) is shown."""

from __future__ import annotations

import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.project import Project, from_dict

RANDOM = "Random initialisation (untrained)"


class ExportWorker(QObject):
    progress = Signal(str, float)  # step, fraction
    succeeded = Signal(dict)  # the format's report as JSON
    failed = Signal(str)
    done = Signal()

    def __init__(self, project: Project, fmt: str, out: str, weights: str | None, opset: int | None,
                 exporter: str) -> None:
        super().__init__()
        self.args = (project, fmt, out)
        self.kwargs = {"weights": weights, "opset": opset, "exporter": exporter}

    @Slot()
    def run(self) -> None:
        import warnings

        from studio.export.formats import export_project
        from studio.transfer import weights_for_export

        try:
            weights, start = weights_for_export(self.args[0], self.kwargs["weights"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = export_project(*self.args, progress=lambda s, f: self.progress.emit(s, f),
                                        **{**self.kwargs, "weights": weights})
            result = report.to_json()
            if start is not None and start.skipped:  # e.g. a transfer template's new head
                result["note"] = "; ".join(filter(None, (result.get("note"), start.fresh_note())))
            self.succeeded.emit(result)
        except StudioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the dialog shows it; the app survives
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        self.done.emit()


def run_folders(project: Project) -> list[Path]:
    """Run folders of this project that hold weights, newest first."""
    try:
        from studio.training.runs import runs_dir_for

        root = runs_dir_for(project)
    except Exception:
        return []
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if (p / "weights.safetensors").is_file()
             or (p / "checkpoints" / "best.ckpt").is_file() or (p / "checkpoints" / "last.ckpt").is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


class ExportDialog(QDialog):
    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from studio.export.formats import FORMATS

        self.document = document
        self.setWindowTitle("Export model")
        self.thread: QThread | None = None
        self.worker: ExportWorker | None = None
        self.result: dict | None = None
        self.error = ""

        self.format = QComboBox()
        for key, (text, _) in FORMATS.items():
            self.format.addItem(text, key)
        self.out = QLineEdit()
        browse_out = QPushButton("Browse...")
        browse_out.clicked.connect(self._browse_out)
        self.weights = QComboBox()
        self.weights.setEditable(True)
        self.weights.addItem(RANDOM, None)
        for run in run_folders(document.project):
            self.weights.addItem(f"run {run.name}", str(run))
        if document.project.path is not None:
            p = Path(document.project.path)
            start = p.with_name(p.stem + ".weights.safetensors")
            if start.is_file():
                self.weights.addItem(f"starting weights ({start.name})", str(start))
        if self.weights.count() > 1:
            self.weights.setCurrentIndex(1)  # the newest run: what people usually mean
        browse_w = QPushButton("File...")
        browse_w.clicked.connect(self._browse_weights)
        self.opset = QSpinBox()
        self.opset.setRange(13, 21)
        self.opset.setValue(18)
        self.exporter = QComboBox()
        for key in ("auto", "legacy", "dynamo"):
            self.exporter.addItem(key, key)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Save to", _row(self.out, browse_out))
        form.addRow("Weights", _row(self.weights, browse_w))
        form.addRow("ONNX opset", self.opset)
        form.addRow("ONNX exporter", self.exporter)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()
        self.show_preflight()
        self.resize(560, 300)

    def show_preflight(self) -> list:
        """Say before anything runs what would stop this export, node by node."""
        from studio.export.common import preflight

        blockers = preflight(self.document.graph, onnx=self.format.currentData() == "onnx")
        if blockers:
            self.status.setStyleSheet("color: #e06c75;")
            self.status.setText("Cannot export yet:\n" + "\n".join(f"- {b}" for b in blockers))
        else:
            self.status.setStyleSheet("")
            self.status.setText("Ready to export.")
        return blockers

    # ---- choices ---------------------------------------------------------------------
    def _format_changed(self) -> None:
        from studio.export.formats import default_suffix

        fmt = self.format.currentData()
        onnx = fmt == "onnx"
        self.opset.setEnabled(onnx)
        self.exporter.setEnabled(onnx)
        if self.thread is None and hasattr(self, "status"):
            self.show_preflight()
        project = self.document.project
        folder = Path(project.path).parent if project.path else Path.home()
        stem = Path(self.out.text()).name.split(".")[0] if self.out.text() else (
            Path(project.path).stem if project.path else "model")
        base = Path(self.out.text()).parent if self.out.text() else folder
        self.out.setText(str(base / (stem + default_suffix(fmt))))

    def _browse_out(self) -> None:
        path = QFileDialog.getSaveFileName(self, "Export to", self.out.text())[0]
        if path:
            self.out.setText(path)

    def _browse_weights(self) -> None:
        path = QFileDialog.getOpenFileName(self, "Weights", "", "Weights (*.safetensors *.pt *.pth *.ckpt)")[0]
        if path:
            self.weights.setEditText(path)

    def selected_weights(self) -> str | None:
        i = self.weights.currentIndex()
        text = self.weights.currentText().strip()
        if i >= 0 and self.weights.itemText(i) == text:
            return self.weights.itemData(i)
        return text or None

    # ---- running -----------------------------------------------------------------------
    def start(self) -> None:
        if self.thread is not None:
            return
        fmt = self.format.currentData()
        out = self.out.text().strip()
        if not out:
            self._show_error("choose where to save the export")
            return
        p = self.document.project
        snapshot = from_dict(p.to_dict(), p.name, p.graph.registry)  # the editor may change on meanwhile
        snapshot.path, snapshot.origin = p.path, p.origin
        self.result, self.error = None, ""
        self.worker = ExportWorker(snapshot, fmt, out, self.selected_weights(),
                                   self.opset.value() if fmt == "onnx" else None, self.exporter.currentData())
        self.thread = QThread()
        self.thread.setObjectName("export")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.progress.connect(self._progress)
        self.worker.succeeded.connect(self._succeeded)
        self.worker.failed.connect(self._show_error)
        self.worker.done.connect(self._finished)
        self.export_button.setEnabled(False)
        self.progress.setValue(0)
        self.status.setStyleSheet("")
        self.status.setText("exporting...")
        self.thread.start()

    def _progress(self, step: str, fraction: float) -> None:
        self.progress.setValue(int(round(100 * fraction)))
        self.status.setText(step + "...")

    def _succeeded(self, report: dict) -> None:
        self.result = report
        self.progress.setValue(100)
        self.status.setStyleSheet("")
        self.status.setText(describe(report))

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.setStyleSheet("color: #e06c75;")
        self.status.setText("Export failed: " + message)

    def _finished(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.quit()
            thread.wait()
        self.worker = None
        self.export_button.setEnabled(True)

    def wait(self, ms: int = 60000) -> None:
        """Block until a running export ends (tests, and closing the dialog)."""
        from PySide6.QtCore import QCoreApplication, QElapsedTimer

        timer = QElapsedTimer()
        timer.start()
        while self.thread is not None and timer.elapsed() < ms:
            QCoreApplication.processEvents()
            QThread.msleep(5)

    def done(self, code: int) -> None:  # noqa: D401 - QDialog API
        self.wait()
        super().done(code)


def describe(report: dict) -> str:
    from studio.cli._output import human_bytes

    files = report.get("files") or [report.get("path")]
    parts = [f"Wrote {', '.join(Path(f).name for f in files)} ({human_bytes(report['size_bytes'])})."]
    if report.get("opset"):
        parts.append(f"Opset {report['opset']} ({report.get('exporter')} exporter); inputs "
                     f"{', '.join(report['inputs'])}; outputs {', '.join(report['outputs'])}.")
    if report.get("max_diff") is not None and report.get("checks"):
        cases = ", ".join(c["case"] for c in report["checks"])
        parts.append(f"Checked against the app's model: largest difference {report['max_diff']:.2g} "
                     f"({cases}; {report.get('sample', '')}).")
    if report.get("note"):
        parts.append(report["note"].capitalize() + ".")
    return " ".join(parts)


def _row(*widgets) -> QWidget:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    for x in widgets:
        lay.addWidget(x, 1 if isinstance(x, (QLineEdit, QComboBox)) else 0)
    return w


def import_model(window, model_path: str | Path, project_path: str | Path) -> Path:
    """Import an ONNX file into a project (weights beside it) and open it in the window."""
    from studio.export.onnx_import import import_onnx

    result = import_onnx(model_path, window.document.graph.registry)
    path, weights = result.save(project_path)
    window.document.open(path)
    window.statusBar().showMessage(f"Imported {Path(model_path).name}: {len(result.project.graph)} nodes; "
                                   f"weights in {weights.name}", 15000)
    return path


def install(window) -> None:
    menu = window.menu("&File")
    menu.addSeparator()
    export = menu.addAction("Export...")
    export.setShortcut("Ctrl+E")
    export.triggered.connect(lambda _c=False: open_export_dialog(window))
    imp = menu.addAction("Import ONNX...")
    imp.triggered.connect(lambda _c=False: _ask_import(window))
    start = menu.addAction("Start from weights...")
    start.setToolTip("Load the weights of a run, a weights file or an ONNX model into the nodes "
                     "that match by name and shape; training starts from them")
    start.triggered.connect(lambda _c=False: _ask_start_from(window))
    window.export_action, window.import_onnx_action, window.start_from_weights_action = export, imp, start
    window.template_weights = TemplateWeights(window)


class TemplateWeights(QObject):
    """A project made from a template that ships pretrained weights (``transfer_digits``)
    has no file yet, so training could not find them beside it: on its first save they
    are copied beside the new file."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.pending: Path | None = None
        window.document.projectReplaced.connect(self._replaced)
        window.document.pathChanged.connect(self._saved)
        self._replaced(window.document.project)

    def _replaced(self, project) -> None:
        self.pending = template_weights_for(project) if project.path is None else None
        if self.pending is not None:
            self.window.statusBar().showMessage(
                "This template starts from pretrained weights: save the project to keep them beside it", 15000)

    def _saved(self, path) -> None:
        if self.pending is None or path is None:
            return
        import shutil

        target = Path(path).with_name(Path(path).stem + ".weights.safetensors")
        if not target.exists():
            shutil.copyfile(self.pending, target)
            self.window.statusBar().showMessage(f"Pretrained weights kept beside the project: {target.name}", 15000)
        self.pending = None


def template_weights_for(project) -> Path | None:
    """The shipped weights of the template this unsaved project was made from (by its name)."""
    import json

    from studio.resources import template_names, template_path

    for name in template_names():  # studio.transfer would import torch: the editor starts without it
        weights = template_path(name).with_name(f"{name}.weights.safetensors")
        if not weights.is_file():
            continue
        try:
            if json.loads(template_path(name).read_text(encoding="utf-8")).get("name") == project.name:
                return weights
        except (OSError, ValueError):
            continue
    return None


def start_from_weights(window, source) -> str:
    """Make ``source``'s matching weights the project's starting point; returns the report."""
    from studio.transfer import attach_weights

    report, path = attach_weights(window.document.project, source)
    text = f"{report}\nSaved as {path.name}: training starts from these weights."
    window.statusBar().showMessage(f"{len(report.matched)} node(s) take weights from {Path(str(source)).name}", 15000)
    return text


def _ask_start_from(window) -> None:
    source = QFileDialog.getOpenFileName(
        window, "Start from weights", "",
        "Weights or models (*.safetensors *.pt *.pth *.ckpt *.onnx);;All files (*)")[0]
    if not source:
        return
    try:
        QMessageBox.information(window, "Start from weights", start_from_weights(window, source))
    except StudioError as exc:
        QMessageBox.warning(window, "Start from weights", str(exc))


def open_export_dialog(window) -> ExportDialog:
    dialog = ExportDialog(window.document, window)
    window.export_dialog = dialog
    dialog.show()
    return dialog


def _ask_import(window) -> None:
    model = QFileDialog.getOpenFileName(window, "Import ONNX model", "", "ONNX models (*.onnx)")[0]
    if not model:
        return
    default = str(Path(model).with_suffix(".json"))
    target = QFileDialog.getSaveFileName(window, "Save the imported project as", default, "Projects (*.json)")[0]
    if not target:
        return
    try:
        import_model(window, model, target)
    except StudioError as exc:
        QMessageBox.warning(window, "Import ONNX", str(exc))
