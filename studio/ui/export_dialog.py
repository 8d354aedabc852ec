"""File > Export...: the export runs on a worker thread, with a progress bar, and the
check's result (largest difference, file size, opset) is shown."""

from __future__ import annotations

import warnings
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.project import Project, weights_beside
from studio.core.units import human_bytes
from studio.export.formats import DEFAULT_OPSET, EXPORTERS, FORMATS, OPSETS, default_suffix, export_project
from studio.ui.workers import Worker, create_worker

RANDOM = "Random initialisation (untrained)"
PRECISIONS = {"float32": "fp32", "int8 (quantized; checked on the validation data)": "int8",
              "float16 (for GPUs; checked on the validation data)": "fp16"}


def run_export(project: Project, fmt: str, out: str, *, report, weights=None, precision: str = "fp32",
               **options) -> dict:
    """Export on the worker's thread; progress goes out through ``report`` as (step, fraction)."""
    from studio.transfer import weights_for_export

    weights, start = weights_for_export(project, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if precision != "fp32":  # int8 or float16, checked against the float model
            from studio.bench.precision import export_reduced

            result = export_reduced(project, out, precision, weights=weights, opset=options.get("opset"),
                                    exporter=options.get("exporter", "auto"),
                                    progress=lambda s, f: report((s, f))).to_json()
        else:
            result = export_project(project, fmt, out, progress=lambda s, f: report((s, f)), weights=weights,
                                    **options).to_json()
    if start is not None and start.skipped:  # e.g. a transfer template's new head
        result["note"] = "; ".join(filter(None, (result.get("note"), start.fresh_note())))
    return result


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
        self.document = document
        self.setWindowTitle("Export model")
        self.worker: Worker | None = None
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
            start = weights_beside(document.project.path)
            if start.is_file():
                self.weights.addItem(f"starting weights ({start.name})", str(start))
        if self.weights.count() > 1:
            self.weights.setCurrentIndex(1)  # the newest run: what people usually mean
        browse_w = QPushButton("File...")
        browse_w.clicked.connect(self._browse_weights)
        self.opset = QSpinBox()
        self.opset.setRange(OPSETS.start, OPSETS.stop - 1)
        self.opset.setValue(DEFAULT_OPSET)
        self.exporter = QComboBox()
        for key in EXPORTERS:
            self.exporter.addItem(key, key)
        self.precision = QComboBox()
        for text, key in PRECISIONS.items():
            self.precision.addItem(text, key)
        self.precision.setToolTip("int8 and float16 are checked against the float model on the validation "
                                  "data, and refused when the task metric drops more than 1 point")

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Save to", _row(self.out, browse_out))
        form.addRow("Weights", _row(self.weights, browse_w))
        form.addRow("ONNX opset", self.opset)
        form.addRow("ONNX exporter", self.exporter)
        form.addRow("ONNX precision", self.precision)
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
        fmt = self.format.currentData()
        onnx = fmt == "onnx"
        self.opset.setEnabled(onnx)
        self.exporter.setEnabled(onnx)
        self.precision.setEnabled(onnx)
        if not self.running and hasattr(self, "status"):
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
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self) -> None:
        if self.running:
            return
        fmt = self.format.currentData()
        out = self.out.text().strip()
        if not out:
            self._show_error("choose where to save the export")
            return
        self.result, self.error = None, ""
        self.worker = create_worker(
            run_export, self.document.project.snapshot(), fmt, out, weights=self.selected_weights(),
            opset=self.opset.value() if fmt == "onnx" else None, exporter=self.exporter.currentData(),
            precision=self.precision.currentData() if fmt == "onnx" else "fp32",
            _report=True, _name="export", _start=False,
            _connect={"yielded": self._progress, "returned": self._succeeded, "errored": self._failed,
                      "finished": self._finished})
        self.export_button.setEnabled(False)
        self.progress.setValue(0)
        self.status.setStyleSheet("")
        self.status.setText("exporting...")
        self.worker.start()

    def _progress(self, step: tuple[str, float]) -> None:
        what, fraction = step
        self.progress.setValue(int(round(100 * fraction)))
        self.status.setText(what + "...")

    def _succeeded(self, report: dict) -> None:
        self.result = report
        self.progress.setValue(100)
        self.status.setStyleSheet("")
        self.status.setText(describe(report))

    def _failed(self, exc: BaseException) -> None:
        self._show_error(str(exc) if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}")

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.setStyleSheet("color: #e06c75;")
        self.status.setText("Export failed: " + message)

    def _finished(self) -> None:
        self.worker = None
        self.export_button.setEnabled(True)

    def done(self, code: int) -> None:  # noqa: D401 - QDialog API
        if self.worker is not None:  # closing mid-export: the file is written or not, never half
            self.worker.wait()
        super().done(code)


def describe(report: dict) -> str:
    if report.get("precision"):
        return describe_reduced(report)
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


def describe_reduced(report: dict) -> str:
    """An int8 or float16 export: the check's figures, as the command line prints them."""
    name = {"int8": "int8", "fp16": "float16"}[report["precision"]]
    parts = [f"Wrote {Path(report['path']).name} ({human_bytes(report['size_bytes'])}, "
             f"{report['size_ratio']:.2f}x the float model's {human_bytes(report['float_size_bytes'])}); "
             f"{report['method_note']}."]
    if report.get("metric"):
        parts.append(f"{report['metric'].capitalize()} {report['reduced_metric']:.4g} ({name}) against "
                     f"{report['float_metric']:.4g} (float): a drop of {report['drop']:.2f} points "
                     f"(at most {report['max_drop']:g}).")
    parts.append(f"Checked on {report['checked_on']}.")
    speed = report.get("speed") or {}
    if speed:
        parts.append(f"ONNX Runtime on the CPU at batch {speed['batch_size']}: {speed['ratio']:.2f}x the float "
                     f"model's speed.")
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


def install(window) -> None:
    menu = window.menu("&File")
    menu.addSeparator()
    export = menu.addAction("Export...")
    export.setShortcut("Ctrl+E")
    export.triggered.connect(lambda _c=False: open_export_dialog(window))
    window.export_action = export


def open_export_dialog(window) -> ExportDialog:
    dialog = ExportDialog(window.document, window)
    window.export_dialog = dialog
    dialog.show()
    return dialog
