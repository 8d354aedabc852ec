"""The Bench panel: the project's model measured on every device here, as bars.

The bench (:func:`studio.bench.runner.bench_project`) runs on a worker thread and yields
one result per device; each arrives as a row of the table (absent and failed devices
with their reason) and a bar. The last bench kept for the project is drawn beside, in
grey, so a change shows at a glance.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QSplitter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.ui.workers import Worker, create_worker

DEVICE_CHOICES = {
    "All devices": "all",
    "CPU (torch and ONNX Runtime)": "cpu,onnxruntime:cpu",
    "GPUs (CUDA, MPS, XLA)": "cuda,mps,xla",
    "ONNX Runtime": "onnxruntime",
}


def _train(e: dict):
    return (e.get("train") or {}).get("samples_per_s")


def _throughput(e: dict):
    sizes = e.get("throughput") or []
    return max(sizes, key=lambda t: t["batch_size"])["samples_per_s"] if sizes else None


def _latency(e: dict):
    return (e.get("latency") or {}).get("p50_ms")


def _peak(e: dict):
    return (e.get("percent_of_peak") or {}).get("inference")


FIGURES = {
    "Inference samples/s (largest batch)": _throughput,
    "Training samples/s": _train,
    "Latency p50 (ms, batch 1)": _latency,
    "% of the device's peak (inference)": _peak,
}
COLUMNS = ("Device", "Status", "Train/s", "p50 ms", "p99 ms", "Infer/s", "% peak", "Memory", "Note")
INTRO = "Measures training and inference speed on every device this machine has."
BAR = "#61afef"
PREVIOUS = "#7f848e"


def _label(target_id: str) -> str:
    """'torch cuda:0 amp channels_last' -> 'cuda:0 amp cl': short enough under a bar."""
    return (target_id.replace("torch ", "").replace("onnxruntime ", "ort ").replace("channels_last", "cl")
            .replace(" threads", "t").replace(" thread", "t"))


class BenchPanel(QWidget):
    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.worker: Worker | None = None
        self.entries: list[dict] = []  # this bench's device results (TargetResult.to_json())
        self.previous: dict | None = None  # the last bench kept for the project
        self.saved = None
        self.error = ""
        self._stale = False  # the running bench belongs to a project no longer shown

        self.devices = QComboBox()
        for text, words in DEVICE_CHOICES.items():
            self.devices.addItem(text, words)
        self.batch_sizes = QLineEdit("1,8,64")
        self.batch_sizes.setToolTip("Inference batch sizes: latency at the smallest, throughput at each")
        self.batch_sizes.setMaximumWidth(110)
        self.run_button = QPushButton("Run bench")
        self.run_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.figure = QComboBox()
        self.figure.addItems(list(FIGURES))
        self.figure.currentIndexChanged.connect(self.redraw)

        top = QHBoxLayout()
        top.addWidget(QLabel("Devices"))
        top.addWidget(self.devices)
        top.addWidget(QLabel("Batch sizes"))
        top.addWidget(self.batch_sizes)
        top.addWidget(self.run_button)
        top.addWidget(self.stop_button)
        top.addStretch(1)
        top.addWidget(self.figure)

        # The chart (pyqtgraph, 0.7 s to import) is made when first needed: the panel is
        # shown or a result arrives, not while the window opens.
        self._plot = None
        self.plot_holder = QWidget()
        self.plot_holder.setMinimumHeight(160)
        QVBoxLayout(self.plot_holder).setContentsMargins(0, 0, 0, 0)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(160)
        self.table.setMinimumWidth(360)

        self.status = QLabel(INTRO)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.plot_holder, 1)
        chart_layout.addWidget(self.legend)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.table, 1)
        side_layout.addWidget(self.status)
        splitter = QSplitter()
        splitter.addWidget(chart)
        splitter.addWidget(side)
        chart.setMinimumWidth(280)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([520, 780])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.load_previous()

    @property
    def plot(self):
        if self._plot is None:
            import pyqtgraph as pg

            self._plot = pg.PlotWidget()
            self._plot.setMouseEnabled(x=False, y=False)
            self._plot.hideButtons()
            pal = self.palette()  # follows the light and dark themes, as the training curves do
            self._plot.setBackground(pal.color(pal.ColorRole.Base))
            for name in ("left", "bottom"):
                axis = self._plot.getAxis(name)
                axis.setPen(pal.color(pal.ColorRole.Text))
                axis.setTextPen(pal.color(pal.ColorRole.Text))
            self.bars_then = pg.BarGraphItem(x=[], height=[], width=0.38, brush=PREVIOUS)
            self.bars_now = pg.BarGraphItem(x=[], height=[], width=0.38, brush=BAR)
            self._plot.addItem(self.bars_then)
            self._plot.addItem(self.bars_now)
            self.plot_holder.layout().addWidget(self._plot)
            self._draw()
        return self._plot

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, lambda: self.isVisible() and self.plot)

    # ---- the last bench kept ------------------------------------------------------------
    def load_previous(self) -> None:
        from studio.bench.results import list_saved, load_saved

        self.previous = None
        try:
            saved = list_saved(self.document.project)
            if saved:
                self.previous = load_saved(saved[-1])
                self.previous["file"] = str(saved[-1])
        except (ValueError, OSError, StudioError):
            self.previous = None
        self.redraw()

    def reset(self) -> None:
        """Another project was opened: its own last bench, and no rows of the old one
        (a bench still running for the old one is stopped, and what it still sends dropped)."""
        if self.running:
            self._stale = True
            self.worker.abort()
        self.entries = []
        self.table.setRowCount(0)
        self.status.setStyleSheet("")
        self.status.setText(INTRO)
        self.load_previous()

    # ---- running -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def batch_size_list(self) -> list[int] | None:
        try:
            sizes = sorted({int(w) for w in self.batch_sizes.text().split(",") if w.strip()})
        except ValueError:
            return None
        return sizes if sizes and all(1 <= s <= 1_000_000 for s in sizes) else None

    def start(self) -> None:
        from studio.bench.runner import bench_project

        if self.running:
            return
        sizes = self.batch_size_list()
        if sizes is None:
            self._show_error(f"batch sizes {self.batch_sizes.text()!r}: give whole numbers from 1, comma separated")
            return
        self.load_previous()  # what this bench is compared with
        self.entries, self.saved, self.error = [], None, ""
        self.table.setRowCount(0)
        self.redraw()
        self.worker = create_worker(
            bench_project, self.document.project.snapshot(), words=self.devices.currentData().split(","),
            batch_sizes=sizes, _name="bench", _start=False,
            _connect={"yielded": self._event, "returned": self._done, "errored": self._failed,
                      "aborted": self._aborted, "finished": self._finished})
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setStyleSheet("")
        self.status.setText("preparing the model and its data...")
        self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.status.setText("stopping after the current measurement...")
            self.worker.abort()

    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.abort()
            self.worker.wait()

    def _event(self, event) -> None:
        if self._stale:
            return
        kind, payload = event
        if kind == "model":
            self.model_info = payload
            self.status.setText(f"{payload['flops_per_sample']:,} FLOPs per sample; inputs: {payload['input_source']}")
        elif kind == "progress":
            self.status.setText(payload + "...")
        elif kind == "device":
            entry = payload.to_json() if hasattr(payload, "to_json") else payload
            self.entries.append(entry)
            self._add_row(entry)
            self.redraw()

    def _done(self, saved) -> None:
        if self._stale:
            return
        self.saved = saved
        measured = sum(e["status"] == "ok" for e in self.entries)
        failed = sum(e["status"] == "failed" for e in self.entries)
        text = f"{measured} measured, {failed} failed, {len(self.entries) - measured - failed} absent"
        if saved:
            text += f"; kept in {saved}"
        self.status.setStyleSheet("color: #e06c75;" if failed else "")
        self.status.setText(text)

    def _aborted(self) -> None:
        if self._stale:
            return
        self.status.setText(f"stopped; {len(self.entries)} device(s) done (nothing kept)")

    def _failed(self, exc: BaseException) -> None:
        if self._stale:
            return
        self._show_error(str(exc) if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}")

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.setStyleSheet("color: #e06c75;")
        self.status.setText("Bench failed: " + message)

    def _finished(self) -> None:
        self.worker = None
        self._stale = False
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    # ---- display -------------------------------------------------------------------------
    def _add_row(self, e: dict) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        latency = e.get("latency") or {}
        memory = [v for k, v in (e.get("peak_memory") or {}).items() if k != "how" and isinstance(v, (int, float))]
        cells = [e["target"]["id"], e["status"], _num(_train(e)), _num(latency.get("p50_ms")),
                 _num(latency.get("p99_ms")), _num(_throughput(e)), _num(_peak(e)),
                 f"{max(memory) / (1 << 20):.1f} MB" if memory else "",
                 e.get("reason") or e.get("train_note") or ""]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if col == 8 and text:
                item.setToolTip(text)
            self.table.setItem(row, col, item)

    def figure_values(self) -> tuple[list[str], list[float], list[float]]:
        """Labels, this bench's values and the last bench's (NaN where it lacks one), for
        the measured devices and the chosen figure."""
        pick = FIGURES[self.figure.currentText()]
        then = {p["target"]["id"]: pick(p) for p in (self.previous or {}).get("targets", [])
                if isinstance(p, dict) and isinstance(p.get("target"), dict)}
        rows = [e for e in self.entries if e["status"] == "ok" and pick(e) is not None]
        if not self.entries:  # before a bench: the last one alone
            ids = [i for i, v in then.items() if v is not None]
            return [_label(i) for i in ids], [math.nan] * len(ids), [then[i] for i in ids]
        labels = [_label(e["target"]["id"]) for e in rows]
        now = [float(pick(e)) for e in rows]
        old = [float(then[e["target"]["id"]]) if then.get(e["target"]["id"]) is not None else math.nan for e in rows]
        return labels, now, old

    def redraw(self) -> None:
        if self._plot is not None or self.entries:
            self.plot  # noqa: B018 - made on first use; it draws itself
            self._draw()

    def _draw(self) -> None:
        labels, now, old = self.figure_values()
        xs = list(range(len(labels)))
        self.bars_now.setOpts(x=[x + 0.2 for x, v in zip(xs, now) if v == v],
                              height=[v for v in now if v == v], width=0.38)
        self.bars_then.setOpts(x=[x - 0.2 for x, v in zip(xs, old) if v == v],
                               height=[v for v in old if v == v], width=0.38)
        self.plot.getAxis("bottom").setTicks([list(zip(xs, labels))])
        then = (self.previous or {}).get("date", "")
        parts = []
        if any(v == v for v in now):
            parts.append(f"<span style='color:{BAR}'>■</span> this bench")
        if any(v == v for v in old):
            parts.append(f"<span style='color:{PREVIOUS}'>■</span> last bench kept ({then.replace('T', ' ')})")
        self.legend.setText(f"{self.figure.currentText()}: " + ", ".join(parts) if parts else "")
        if labels:
            self.plot.setXRange(-0.7, len(labels) - 0.3, padding=0)
            top = max([v for v in now + old if v == v] or [1.0])
            self.plot.setYRange(0, top * 1.1, padding=0)


def _num(value) -> str:
    if value is None or value != value:
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def install(window) -> BenchPanel:
    panel = BenchPanel(window.document)
    dock = window.add_panel(panel, "Bench", "bottom")
    panel.dock = dock
    menu = window.menu("&Train")
    action = menu.addAction("Bench on every device")
    action.triggered.connect(lambda _c=False: (dock.show(), dock.raise_(), panel.start()))
    window.bench_panel = panel
    window.document.projectReplaced.connect(lambda _project: panel.reset())
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(panel.shutdown)
    return panel
