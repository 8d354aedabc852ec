"""The training panel: device, settings, Train / Pause / Stop, progress and live curves.

Training runs on a compiled snapshot in a :class:`~studio.ui.training_worker.TrainingWorker`
(a worker thread); editing the graph meanwhile never touches it, and the panel says so. Numbers
arrive in batched signals and go to :class:`~studio.ui.training_plots.TrainingPlots`,
which redraws from its own timer.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QApplication, QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel,
    QListWidget, QListWidgetItem, QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSplitter,
    QTabWidget, QVBoxLayout, QWidget,
)

from studio.core.errors import StudioError
from studio.core.settings import TRAINING_PARAMS
from studio.training.devices import list_devices
from studio.training.runs import RunFolder, list_runs, runs_dir_for, short_run_name
from studio.training.status import RunStatus
from studio.ui.commands import SetSetting
from studio.ui.param_editors import build_form
from studio.ui.workers import create_worker

LIVE_TEXT_SECONDS = 0.25
RUN_STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
RESUMABLE = ("stopped", "error", "running")  # a NaN would come back at the same step
PROBE_DELAY_MS = 1500
GRAPH_CHANGED = "The graph changed since this run started; the run keeps training the graph as it was."


class _DeviceProbe(QObject):
    """Lists the devices on a worker thread and hands the list to the GUI thread."""

    found = Signal(object)
    started = False

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        # Slots are methods, so a probe deleted meanwhile (its window closed) is simply not called.
        self.worker = create_worker(list_devices, _name="device-probe", _connect={"returned": self._found})

    def _found(self, devices) -> None:
        self.found.emit(devices)


class TrainingPanel(QWidget):
    runFinished = Signal(dict)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.worker: TrainingWorker | None = None
        self.graph_changed = False
        self._build()
        document.graphChanged.connect(self._on_graph_changed)
        document.projectReplaced.connect(self._project_replaced)
        document.trainingChanged.connect(lambda _name: self._show_settings())
        self._load_settings()
        self.refresh_runs()

    # ---- building -----------------------------------------------------------------
    def _build(self) -> None:
        self.device = QComboBox()
        self._fill_devices()
        # A choice by hand is a setting like the others: saved with the project, undoable.
        self.device.activated.connect(lambda i: self._set("device", self.device.itemData(i) or "auto"))
        self.form = QFormLayout()
        self.form.addRow("Device", self.device)
        # The device has its own selector above; every other setting is a Param editor.
        _, self.param_editors = build_form([p for p in TRAINING_PARAMS if p.name != "device"], self._edited,
                                           "training", form=self.form)
        self.editors: dict[str, QWidget] = {name: ed.widget for name, ed in self.param_editors.items()}
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
        self.live.setWordWrap(True)  # two fixed lines: the ETA is never cut off
        self.live.setFixedHeight(2 * self.live.fontMetrics().lineSpacing() + 2)
        self._live_at = 0.0
        self.changed_label = QLabel(GRAPH_CHANGED)
        self.changed_label.setWordWrap(True)
        self.changed_label.hide()

        self.log_scale = QCheckBox("Log scale")
        self.log_scale.toggled.connect(lambda on: self.plots.set_log(on))
        self.runs = QListWidget()
        self.runs.setToolTip("Tick past runs to overlay their curves")
        self.runs.itemChanged.connect(lambda _i: self._overlay_runs())

        runs_page = QWidget()
        runs_layout = QVBoxLayout(runs_page)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(self.log_scale)
        runs_layout.addWidget(self.runs)
        self.continue_button = QPushButton("Continue the selected run")
        self.continue_button.setToolTip("Resume a stopped or interrupted run from its last checkpoint, "
                                        "with the graph and settings it started with")
        self.continue_button.clicked.connect(lambda _c=False: self.continue_selected())
        self.runs.currentItemChanged.connect(lambda *_: self._update_continue())
        runs_layout.addWidget(self.continue_button)
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

        # The curves (pyqtgraph, 0.7 s to import) are made when first needed: the panel is
        # shown or a run starts, not while the window opens.
        self._plots = None
        self.plots_holder = QWidget()
        QVBoxLayout(self.plots_holder).setContentsMargins(0, 0, 0, 0)
        from studio.ui.epoch_table import EpochTable

        self.epoch_table = EpochTable()  # beneath the curves: the numbers of each epoch
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plots_holder)
        right.addWidget(self.epoch_table)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setSizes([300, 110])  # the curves first; the table scrolls
        splitter = QSplitter()
        splitter.addWidget(side)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([300, 900])
        self.dock = None  # set by install(): shown and raised when a run starts
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._set_running(False)

    def _fill_devices(self) -> None:
        """Offer auto and cpu at once; the full list (which imports torch to ask it)
        arrives from a background probe, so the window opens without waiting for torch."""
        self.device.clear()
        self.device.addItem("auto", "auto")
        self.device.addItem("cpu", "cpu")
        self._probe = _DeviceProbe(self)
        self._probe.found.connect(self._show_devices)

    @property
    def plots(self):
        if self._plots is None:
            from studio.ui.training_plots import TrainingPlots

            self._plots = TrainingPlots()
            self.plots_holder.layout().addWidget(self._plots)
            self._plots.set_log(self.log_scale.isChecked())
            self._overlay_runs()
        return self._plots

    @property
    def series(self):
        return self.plots.series

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Made once the panel is really on screen (a tabbed-away dock is shown, then hidden,
        # while the window opens), so opening the window does not wait for pyqtgraph.
        QTimer.singleShot(0, lambda: self.isVisible() and self.plots)
        if not self._probe.started:
            # Let the window finish opening before torch is imported in the background.
            QTimer.singleShot(PROBE_DELAY_MS, self._probe.start)

    def _show_devices(self, devices) -> None:
        chosen = self.device.currentData() or self.document.project.training.get("device", "auto")
        self.device.clear()
        self.device.addItem("auto", "auto")
        model: QStandardItemModel = self.device.model()
        for d in devices:
            label = d.name if d.available else f"{d.id}: {d.name} (unavailable)"
            self.device.addItem(f"{d.id} — {label}" if d.available else label, d.id)
            item = model.item(self.device.count() - 1)
            if not d.available:
                item.setEnabled(False)
                item.setToolTip(d.reason)
                item.setData(d.reason, Qt.ItemDataRole.ToolTipRole)
        self.device.setCurrentIndex(max(self.device.findData(chosen), 0))

    def _edited(self, param, value, error: str | None) -> bool:
        if error is None:
            try:
                value = param.validate("training", value)
            except StudioError as exc:
                error = str(exc)
        if error is not None:
            self.status.setText(error)
            return False
        self._set(param.name, value)
        return True

    def _set(self, name: str, value) -> None:
        if not self._loading and self.document.project.training.get(name) != value:
            # An undoable edit: the title shows the unsaved change, and Ctrl+Z takes it back.
            self.document.undo_stack.push(SetSetting(self.document, name, value))

    _loading = False

    def _load_settings(self) -> None:
        self._show_settings()
        self.refresh_runs()

    def _show_settings(self) -> None:
        values = self.document.project.training
        self._loading = True
        try:
            for p in TRAINING_PARAMS:
                if p.name in self.param_editors:
                    self.param_editors[p.name].set_value(values.get(p.name, p.default))
            index = self.device.findData(values.get("device", "auto"))
            self.device.setCurrentIndex(max(index, 0))
        finally:
            self._loading = False

    # ---- running --------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, data=None, max_batches=None, resume: str | None = None) -> None:
        """Train the project as it is now; with ``resume`` (a run folder), continue that
        run from its last checkpoint, with the graph and settings it was started with."""
        if self.running:
            return
        project = self.document.project
        blockers = [] if resume is not None else self.document.analysis().training_blockers
        if blockers:  # said before anything starts, with what to do
            self.status.setText("Cannot train: " + "; ".join(str(p) for p in blockers))
            return
        snapshot = project.snapshot()
        device = self.device.currentData() or "auto"
        self.plots.reset()
        self.epoch_table.reset()
        if resume is not None:
            for record in RunFolder(resume).read_history():  # the epochs it has done so far
                self.plots.add_epoch(record)
                self.epoch_table.add_epoch(record)
        self.graph_changed = False
        self.changed_label.setText(GRAPH_CHANGED)
        self.changed_label.hide()
        self.progress.setValue(0)
        self.live.setText("")
        self._live_at = 0.0
        self.status.setText("Preparing: compiling the graph and loading the data…")
        from studio.ui.training_worker import TrainingWorker  # torch comes with it

        self.worker = TrainingWorker(snapshot, data=data, device=device, max_batches=max_batches, resume=resume)
        self.worker.started.connect(self._on_started)
        self.worker.batchLosses.connect(self.plots.add_batches)
        self.worker.progress.connect(self._on_progress)
        self.worker.epochEnded.connect(self.plots.add_epoch)
        self.worker.epochEnded.connect(self.epoch_table.add_epoch)
        self.worker.finished.connect(self._on_finished)
        self.worker.start()
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()
            window = self.window()
            if window is not None and self.dock.height() < 0.35 * window.height():
                # Curves need room to be read; the canvas keeps the rest.
                window.resizeDocks([self.dock], [int(0.42 * window.height())], Qt.Orientation.Vertical)
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

    def _resumable(self, item) -> bool:
        if item is None:
            return False
        status = item.data(RUN_STATUS_ROLE)
        # "running": the app or machine stopped before the run could say how it ended.
        return status in RESUMABLE and (Path(item.data(Qt.ItemDataRole.UserRole)) / "checkpoints/last.ckpt").exists()

    def _update_continue(self) -> None:
        self.continue_button.setEnabled(not self.running and self._resumable(self.runs.currentItem()))

    def continue_selected(self) -> None:
        item = self.runs.currentItem()
        if not self.running and self._resumable(item):
            self.start(resume=item.data(Qt.ItemDataRole.UserRole))

    def _set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        if hasattr(self, "continue_button"):
            self._update_continue()
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Pause")
        for w in self.editors.values():
            w.setEnabled(not running)
        self.device.setEnabled(not running)

    def _project_replaced(self, _project=None) -> None:
        """Another project: its settings, its runs, and none of the last one's curves or
        words. A run still going (of the project before) keeps training its snapshot."""
        self._load_settings()
        if not self.running:
            if self._plots is not None:
                self._plots.reset()
                self._plots.set_past([])
            self.progress.setValue(0)
            self.live.setText("")
            self.status.setText("Ready")
            self.changed_label.hide()
        else:
            self.graph_changed = True
            self.changed_label.setText("Another project is open; this run keeps training the one it started with.")
            self.changed_label.show()
        self.refresh_runs()

    def _on_graph_changed(self) -> None:
        if self.running and not self.graph_changed:
            self.graph_changed = True
            self.changed_label.show()

    def _on_started(self, info: dict) -> None:
        self.plots.set_epochs(info["epochs"])
        self.epoch_table.set_batches(info["batches"])
        self.status.setText(f"Training on {info['device']}; run folder {info['run_dir']}")

    def _on_progress(self, p) -> None:
        """``p``: the run's :class:`~studio.training.progress.Progress`, as the command line prints it."""
        self.progress.setValue(int(1000 * p.fraction))
        now = time.monotonic()
        if now - self._live_at < LIVE_TEXT_SECONDS:
            return
        self._live_at = now
        self.live.setText(p.text())

    def _on_finished(self, outcome: dict) -> None:
        self.worker = None
        self._set_running(False)
        self.status.setText({RunStatus.COMPLETED: "Finished", RunStatus.STOPPED: "Stopped",
                             RunStatus.EARLY_STOPPING: "Stopped early"}
                            .get(outcome["status"], "Failed") + (f": {outcome['message']}" if outcome["message"]
                                                                else ""))
        self.epoch_table.finish(self.status.text().split(":")[0])
        final = outcome.get("progress")
        if final is not None:  # the last word, never held back: the live line, bar and runs list agree
            self.live.setText(final.text())
            self.progress.setValue(int(1000 * final.fraction))
        self.refresh_runs()
        self.runFinished.emit(outcome)

    def shutdown(self, wait_ms: int = 10_000) -> None:
        """Stop a running worker and wait for its thread (window closing, tests)."""
        if self.worker is not None:
            self.worker.stop()
            self.worker.wait(wait_ms)

    def point_counts(self) -> dict[str, int]:
        return self.plots.point_counts()

    # ---- past runs ------------------------------------------------------------------
    def refresh_runs(self) -> None:
        ticked = {self.runs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.runs.count())
                  if self.runs.item(i).checkState() == Qt.CheckState.Checked}
        self.runs.blockSignals(True)
        self.runs.clear()
        for run in reversed(list_runs(runs_dir_for(self.document.project))):
            best = f" · best val {run.best_val_loss:.4g}" if run.best_val_loss is not None else ""
            # Time first, as in the curves' legend; the folder name is in the tooltip.
            item = QListWidgetItem(f"{short_run_name(run.name)} · {run.status} · {run.epochs_done} epochs{best}")
            item.setData(Qt.ItemDataRole.UserRole, str(run.path))
            item.setData(RUN_STATUS_ROLE, run.status)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if str(run.path) in ticked else Qt.CheckState.Unchecked)
            item.setToolTip(f"{run.path}" + (f"\n{run.message}" if run.message else ""))
            self.runs.addItem(item)
        self.runs.blockSignals(False)
        self._update_continue()
        self._overlay_runs()

    def _overlay_runs(self) -> None:
        ticked = [self.runs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.runs.count())
                  if self.runs.item(i).checkState() == Qt.CheckState.Checked]
        if self._plots is None:
            return  # drawn when the curves are made
        runs = {str(r.path): r for r in list_runs(runs_dir_for(self.document.project))}
        self.plots.set_past([(runs[p].name, runs[p].history) for p in ticked if p in runs])

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
