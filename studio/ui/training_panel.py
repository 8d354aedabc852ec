"""The training panel: device, settings, Train / Pause / Stop, progress and live curves.

Training runs on a compiled snapshot in a :class:`~studio.ui.workers.TrainingWorker`
thread. Numbers arrive in batched signals and go into growing numpy buffers; a timer
redraws at most 30 times a second, only when something changed, with peak
downsampling and clip-to-view so long runs stay smooth. No grid: it costs tens of ms
per repaint.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter,
    QTabWidget, QVBoxLayout, QWidget,
)

from studio.core.project import from_dict
from studio.core.settings import TRAINING_PARAMS
from studio.training.devices import list_devices
from studio.training.runs import list_runs, runs_dir_for
from studio.ui.workers import TrainingWorker, start_worker

REDRAW_MS = 33
LIVE_TEXT_SECONDS = 0.25
SMOOTH = 0.9  # weight of the past in the smoothed batch loss
_LIVE: set = set()
PAST_COLOURS = ("#8a8a8a", "#a0785a", "#6a8fa0", "#8f6aa0", "#6aa07a")


class Series:
    """A growing x/y buffer: appends amortise to O(1), views cost nothing."""

    def __init__(self) -> None:
        self.x = np.empty(1024)
        self.y = np.empty(1024)
        self.n = 0
        self.lo = math.inf  # finite y range seen so far, for the view range
        self.hi = -math.inf
        self.pos_lo = math.inf  # smallest positive y, for a log axis
        self.dirty = False

    def extend(self, xs, ys) -> None:
        k = len(xs)
        if self.n + k > len(self.x):
            size = max(len(self.x) * 2, self.n + k)
            self.x = np.resize(self.x, size)
            self.y = np.resize(self.y, size)
        self.x[self.n:self.n + k] = xs
        self.y[self.n:self.n + k] = ys
        self.n += k
        self.dirty = True
        ys = np.asarray(ys, dtype=float)
        finite = ys[np.isfinite(ys)]
        if finite.size:
            self.lo = min(self.lo, float(finite.min()))
            self.hi = max(self.hi, float(finite.max()))
            positive = finite[finite > 0]
            if positive.size:
                self.pos_lo = min(self.pos_lo, float(positive.min()))

    def clear(self) -> None:
        self.n = 0
        self.lo, self.hi, self.pos_lo = math.inf, -math.inf, math.inf
        self.dirty = True

    def data(self):
        return self.x[: self.n], self.y[: self.n]


def _pen(colour, style=Qt.PenStyle.SolidLine):
    return pg.mkPen(colour, width=1, style=style)


class TrainingPanel(QWidget):
    runFinished = Signal(dict)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.worker: TrainingWorker | None = None
        self.thread = None
        self.graph_changed = False
        self.dirty = False
        self.smoothed = None
        self.series = {k: Series() for k in ("batch", "smooth", "train", "val", "metric", "lr")}
        self.metric_name = ""
        self._build()
        document.graphChanged.connect(self._on_graph_changed)
        document.projectReplaced.connect(lambda _p: self._load_settings())
        self._load_settings()
        self.refresh_runs()
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw)
        self.timer.start()

    # ---- building -----------------------------------------------------------------
    def _build(self) -> None:
        self.device = QComboBox()
        self._fill_devices()
        self.form = QFormLayout()
        self.form.addRow("Device", self.device)
        self.editors: dict[str, QWidget] = {}
        for p in TRAINING_PARAMS:
            if p.name == "device":
                continue
            editor = self._editor(p)
            editor.setToolTip(p.doc)
            self.editors[p.name] = editor
            self.form.addRow(p.name.replace("_", " ").capitalize(), editor)
        settings = QWidget()
        settings.setLayout(self.form)
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)

        self.train_button = QPushButton("Train")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.train_button.clicked.connect(lambda _checked=False: self.start())
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        # The live line changes several times a second: fixed height and an ignored
        # width hint, so a new text repaints the label without re-laying out the panel.
        self.live = QLabel("")
        self.live.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._live_at = 0.0
        self.changed_label = QLabel("The graph changed since this run started; the run keeps training "
                                    "the graph as it was.")
        self.changed_label.setWordWrap(True)
        self.changed_label.hide()

        self.log_scale = QCheckBox("Log scale")
        self.log_scale.toggled.connect(self._set_log)
        self.runs = QListWidget()
        self.runs.setToolTip("Tick past runs to overlay their curves")
        self.runs.itemChanged.connect(lambda _i: self._overlay_runs())

        runs_page = QWidget()
        runs_layout = QVBoxLayout(runs_page)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(self.log_scale)
        runs_layout.addWidget(self.runs)
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "Settings")
        self.tabs.addTab(runs_page, "Runs")
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.live)
        left.addWidget(self.status)
        left.addWidget(self.changed_label)
        left.addWidget(self.tabs, 1)
        side = QWidget()
        side.setLayout(left)
        side.setMinimumWidth(260)

        self.plots = pg.GraphicsLayoutWidget()
        self.loss_plot = self.plots.addPlot(row=0, col=0, title="Loss")
        # Side by side: the panel docks at the bottom, wide and short.
        self.metric_plot = self.plots.addPlot(row=0, col=1, title="Metric")
        self.lr_plot = self.plots.addPlot(row=0, col=2, title="Learning rate")
        self.plots.ci.layout.setColumnStretchFactor(0, 2)
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.setLabel("bottom", "epoch")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.curves = {
            "batch": self.loss_plot.plot(pen=_pen((90, 140, 200, 110)), name="batch"),
            "smooth": self.loss_plot.plot(pen=_pen("#3d8fe0"), name="smoothed"),
            "train": self.loss_plot.plot(pen=_pen("#e0a03d"), symbol="o", symbolSize=5, name="train"),
            "val": self.loss_plot.plot(pen=_pen("#e05a3d"), symbol="o", symbolSize=5, name="validation"),
            "metric": self.metric_plot.plot(pen=_pen("#5ac46a"), symbol="o", symbolSize=5),
            "lr": self.lr_plot.plot(pen=_pen("#b07ad0")),
        }
        self.past_curves: list = []
        self._epochs = 1
        self._plot_series = ((self.loss_plot, ("batch", "smooth", "train", "val")),
                             (self.metric_plot, ("metric",)), (self.lr_plot, ("lr",)))
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.enableAutoRange(False)  # ranges follow the data in _fit_y / _fit_x
        splitter = QSplitter()
        splitter.addWidget(side)
        splitter.addWidget(self.plots)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([300, 900])
        self.dock = None  # set by install(): shown and raised when a run starts
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._set_running(False)

    def _fill_devices(self) -> None:
        self.device.clear()
        self.device.addItem("auto", "auto")
        model: QStandardItemModel = self.device.model()
        for d in list_devices():
            label = d.name if d.available else f"{d.id}: {d.name} (unavailable)"
            self.device.addItem(f"{d.id} — {label}" if d.available else label, d.id)
            item = model.item(self.device.count() - 1)
            if not d.available:
                item.setEnabled(False)
                item.setToolTip(d.reason)
                item.setData(d.reason, Qt.ItemDataRole.ToolTipRole)

    def _editor(self, p) -> QWidget:
        if p.kind == "choice":
            w = QComboBox()
            w.addItems(list(p.choices))
            w.currentTextChanged.connect(lambda v, n=p.name: self._set(n, v))
        elif p.kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda v, n=p.name: self._set(n, bool(v)))
        elif p.kind == "int":
            w = QSpinBox()
            w.setRange(int(p.min if p.min is not None else -2**31), int(min(p.max or 2**31 - 1, 2**31 - 1)))
            w.valueChanged.connect(lambda v, n=p.name: self._set(n, int(v)))
        elif p.kind == "float":
            w = QDoubleSpinBox()
            w.setDecimals(8 if (p.min or 0) < 1e-3 else 4)
            w.setRange(p.min if p.min is not None else -1e9, p.max if p.max is not None else 1e9)
            w.setSingleStep(0.001 if p.name == "learning_rate" else 0.05)
            w.valueChanged.connect(lambda v, n=p.name: self._set(n, float(v)))
        else:
            w = QLineEdit()
            w.textEdited.connect(lambda v, n=p.name: self._set(n, v))
        return w

    def _set(self, name: str, value) -> None:
        if not self._loading:
            self.document.project.training[name] = value

    _loading = False

    def _load_settings(self) -> None:
        values = self.document.project.training
        self._loading = True
        try:
            for p in TRAINING_PARAMS:
                w = self.editors.get(p.name)
                v = values.get(p.name, p.default)
                if isinstance(w, QComboBox):
                    w.setCurrentText(str(v))
                elif isinstance(w, QCheckBox):
                    w.setChecked(bool(v))
                elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                    w.setValue(v)
                elif isinstance(w, QLineEdit):
                    w.setText(str(v))
            index = self.device.findData(values.get("device", "auto"))
            self.device.setCurrentIndex(max(index, 0))
        finally:
            self._loading = False
        self.refresh_runs()

    # ---- running --------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, data=None, max_batches=None) -> None:
        if self.running:
            return
        project = self.document.project
        snapshot = from_dict(project.to_dict(), project.name, project.graph.registry)
        snapshot.path = project.path
        device = self.device.currentData() or "auto"
        project.training["device"] = device
        for s in self.series.values():
            s.clear()
        self.smoothed = None
        self.graph_changed = False
        self.changed_label.hide()
        self.progress.setValue(0)
        self.live.setText("")
        self._live_at = 0.0
        self.status.setText("Preparing: compiling the graph and loading the data…")
        self.worker = TrainingWorker(snapshot, data=data, device=device, max_batches=max_batches)
        self.worker.started.connect(self._on_started)
        self.worker.batchLosses.connect(self._on_batches)
        self.worker.progress.connect(self._on_progress)
        self.worker.epochEnded.connect(self._on_epoch)
        self.worker.finished.connect(self._on_finished)
        self.thread = start_worker(self.worker)
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()
        # The thread object must outlive this panel if the window closes mid-run.
        _LIVE.add(self.thread)
        self.thread.finished.connect(lambda t=self.thread: _LIVE.discard(t))
        self._set_running(True)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.status.setText("Stopping after this batch…")

    def toggle_pause(self) -> None:
        if self.worker is None:
            return
        if self.worker.control.paused:
            self.worker.resume_run()
            self.pause_button.setText("Pause")
            self.status.setText("Resumed")
        else:
            self.worker.pause()
            self.pause_button.setText("Resume")
            self.status.setText("Paused")

    def _set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Pause")
        for w in self.editors.values():
            w.setEnabled(not running)
        self.device.setEnabled(not running)

    def _on_graph_changed(self) -> None:
        if self.running and not self.graph_changed:
            self.graph_changed = True
            self.changed_label.show()

    def _on_started(self, info: dict) -> None:
        self._epochs = info["epochs"]
        self._fit_x(self._epochs)
        self.status.setText(f"Training on {info['device']}; run folder {info['run_dir']}")

    def _on_batches(self, flat: list) -> None:
        arr = np.asarray(flat, dtype=float).reshape(-1, 2)
        xs, ys = arr[:, 0], arr[:, 1]
        smooth = np.empty_like(ys)
        s = self.smoothed
        for i, y in enumerate(ys):  # a few hundred values per signal at most
            s = y if s is None else SMOOTH * s + (1 - SMOOTH) * y
            smooth[i] = s
        self.smoothed = s
        self.series["batch"].extend(xs, ys)
        self.series["smooth"].extend(xs, smooth)
        self.dirty = True

    def _on_progress(self, p: dict) -> None:
        self.progress.setValue(int(1000 * min(1.0, p["fraction"])))
        now = time.monotonic()
        if now - self._live_at < LIVE_TEXT_SECONDS:
            return
        self._live_at = now
        eta = int(p["eta"])
        self.live.setText(f"Epoch {p['epoch']}/{p['epochs']} · batch {p['batch']}/{p['batches']} · "
                            f"{p['samples_per_s']:,.0f} samples/s · ETA {eta // 60}:{eta % 60:02d}")

    def _on_epoch(self, r: dict) -> None:
        e = [float(r["epoch"])]
        self.series["train"].extend(e, [r["train_loss"]])
        if r["val_loss"] is not None:
            self.series["val"].extend(e, [r["val_loss"]])
        if r["metrics"]:
            self.metric_name, value = next(iter(r["metrics"].items()))
            self.series["metric"].extend(e, [math.nan if value is None else value])
            self.metric_plot.setTitle(self.metric_name)
        self.series["lr"].extend(e, [r["lr"]])
        self.dirty = True

    def _on_finished(self, outcome: dict) -> None:
        self.worker = None
        self.thread = None
        self._set_running(False)
        self.status.setText({"completed": "Finished", "stopped": "Stopped", "early_stopping": "Stopped early"}
                            .get(outcome["status"], "Failed") + (f": {outcome['message']}" if outcome["message"]
                                                                else ""))
        if outcome["status"] in ("completed", "early_stopping"):
            self.progress.setValue(1000)
        self.refresh_runs()
        self.dirty = True
        self.runFinished.emit(outcome)

    def shutdown(self, wait_ms: int = 10_000) -> None:
        """Stop a running worker and wait for its thread (window closing, tests)."""
        if self.worker is not None and self.thread is not None:
            thread = self.thread
            self.worker.stop()
            thread.wait(wait_ms)

    # ---- drawing --------------------------------------------------------------------
    def _redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        for name, curve in self.curves.items():
            series = self.series[name]
            if series.dirty:  # untouched plots are not repainted
                series.dirty = False
                curve.setData(*series.data())
        for plot, names in self._plot_series:
            extra = [c.series for c in self.past_curves] if plot is self.loss_plot else []
            self._fit_y(plot, [self.series[n] for n in names] + extra)

    def _fit_y(self, plot, series: list[Series]) -> None:
        """Move the y range only when the data leaves it or fills a small part of it:
        re-ranging re-lays out the axis, which costs more than drawing the curves."""
        log = plot.getAxis("left").logMode
        lo = min((x.pos_lo if log else x.lo) for x in series)
        hi = max(x.hi for x in series)
        if not (math.isfinite(lo) and math.isfinite(hi)) or (log and hi <= 0):
            return
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        (vlo, vhi) = plot.getViewBox().viewRange()[1]
        span = max(hi - lo, 1e-12)
        if lo >= vlo and hi <= vhi and (vhi - vlo) <= 2.5 * span:
            return
        pad = 0.08 * span
        plot.setYRange(lo - pad, hi + pad, padding=0)

    def _fit_x(self, epochs: int) -> None:
        longest = max([epochs] + [len(getattr(c, "history", ())) for c in self.past_curves])
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.setXRange(0, max(1, longest), padding=0.02)

    def _set_log(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.lr_plot.setLogMode(y=on)
        for s in self.series.values():
            s.dirty = True
        self._fit_x(self._epochs)
        self.dirty = True

    def point_counts(self) -> dict[str, int]:
        """Points each live curve is drawing (what a person would see)."""
        out = {}
        for name, curve in self.curves.items():
            x, _ = curve.getData()
            out[name] = 0 if x is None else len(x)
        return out

    # ---- past runs ------------------------------------------------------------------
    def refresh_runs(self) -> None:
        ticked = {self.runs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.runs.count())
                  if self.runs.item(i).checkState() == Qt.CheckState.Checked}
        self.runs.blockSignals(True)
        self.runs.clear()
        for run in reversed(list_runs(runs_dir_for(self.document.project))):
            best = f", best val {run.best_val_loss:.4g}" if run.best_val_loss is not None else ""
            item = QListWidgetItem(f"{run.name}  ({run.status}, {run.epochs_done} epochs{best})")
            item.setData(Qt.ItemDataRole.UserRole, str(run.path))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if str(run.path) in ticked else Qt.CheckState.Unchecked)
            item.setToolTip(run.message or str(run.path))
            self.runs.addItem(item)
        self.runs.blockSignals(False)
        self._overlay_runs()

    def _overlay_runs(self) -> None:
        for curve in self.past_curves:
            self.loss_plot.removeItem(curve)
        self.past_curves = []
        ticked = [self.runs.item(i) for i in range(self.runs.count())
                  if self.runs.item(i).checkState() == Qt.CheckState.Checked]
        runs = {str(r.path): r for r in list_runs(runs_dir_for(self.document.project))}
        for i, item in enumerate(ticked):
            run = runs.get(item.data(Qt.ItemDataRole.UserRole))
            if run is None or not run.history:
                continue
            colour = PAST_COLOURS[i % len(PAST_COLOURS)]
            epochs = [r["epoch"] for r in run.history]
            key = "val_loss" if run.history[0].get("val_loss") is not None else "train_loss"
            ys = [math.nan if r[key] is None else r[key] for r in run.history]
            curve = pg.PlotDataItem(epochs, ys, pen=_pen(colour, Qt.PenStyle.DashLine), name=f"{run.name} ({key})")
            curve.series = Series()
            curve.series.extend(epochs, ys)
            curve.history = run.history
            self.loss_plot.addItem(curve)
            self.past_curves.append(curve)
        self._fit_x(self._epochs)
        self.dirty = True


def install(window) -> TrainingPanel:
    panel = TrainingPanel(window.document)
    dock = window.add_panel(panel, "Training", "bottom")
    panel.dock = dock
    window.resizeDocks([dock], [320], Qt.Orientation.Vertical)
    menu = window.menu("&Train")
    train = menu.addAction("Train")
    train.setShortcut("Ctrl+T")
    train.triggered.connect(lambda _c=False: (dock.show(), dock.raise_(), panel.start()))
    stop = menu.addAction("Stop training")
    stop.triggered.connect(lambda _c=False: panel.stop())
    window.training_panel = panel
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(panel.shutdown)
    return panel
