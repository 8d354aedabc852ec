"""The data panel: choose a built-in dataset or import one, look at it, and use it.

Loading runs in a thread, so a slow folder never freezes the editor; the preview shows a
few samples (images with their boxes, waveform and spectrogram, text pairs, rows),
class balance, split sizes, what was skipped and why, and the augmentation on real
samples. "Use this data" writes ``project.data`` as one undoable step, together with the
Input nodes' new shape when the box for it is ticked.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.data.base import DataError, DataSplit
from studio.data.preview import class_balance, input_params, summary, take, text_pairs
from studio.data.registry import dataset_entry, dataset_names, load_data, project_folder, resolve_data_paths
from studio.spec.roles import ROLE_INPUT
from studio.ui.data_preview import BalanceBars, ImageGrid, RowsTable, WaveView

PREVIEW_SAMPLES = 32
# Per importer: does it read a folder or a file, the file filter, and an options example.
IMPORTERS = {
    "image_folder": ("folder", "", '{"size": [28, 28], "grayscale": true}'),
    "csv": ("file", "CSV files (*.csv *.tsv *.txt)", '{"label": "species"}'),
    "npz": ("file", "NumPy archives (*.npz)", '{"kind": "image"}'),
    "wav_folder": ("folder", "", '{"sample_rate": 8000, "seconds": 1.0, "split_by": "speaker"}'),
    "text_pairs": ("file", "Text pairs (*.tsv *.txt)", '{"max_length": 60}'),
    "yolo": ("folder", "", '{"size": [64, 64], "max_boxes": 10}'),
}
AUGMENT_HINTS = {"image": '{"flip": true, "rotate": 10, "shift": 0.1, "noise": 0.05}',
                 "waveform": '{"gain": 6, "time_shift": 0.1, "noise": 0.005}'}


class SetData(QUndoCommand):
    """Replace ``project.data``; ``on_change`` lets the panel follow undo and redo."""

    def __init__(self, document, new: dict, on_change) -> None:
        super().__init__(f"Use data {new.get('dataset', '')}")
        self.document, self.new, self.on_change = document, new, on_change
        self.old = dict(document.project.data)

    def redo(self) -> None:
        self.document.project.data = dict(self.new)
        self.on_change()

    def undo(self) -> None:
        self.document.project.data = dict(self.old)
        self.on_change()


class _Loader(QObject):
    """Loads in a Python thread and reports on the GUI thread through a queued signal."""

    finished = Signal(int, object, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._threads: list[threading.Thread] = []
        self._closing = False
        # A loader thread still inside torch when the interpreter exits aborts the process
        # ("terminate called without an active exception"): wait for it before quitting.
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.wait)

    def start(self, request: int, config: dict, seed: int, val_split: float) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=self._run, args=(request, config, seed, val_split), daemon=True,
                                  name="data-preview")
        self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        self._closing = True
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _run(self, request, config, seed, val_split) -> None:
        try:
            split = load_data(config, seed=seed, val_split=val_split)
            payload = {"split": split, "batch": take(split.train, PREVIEW_SAMPLES),
                       "balance": class_balance(split), "pairs": text_pairs(split)}
            result = (request, payload, "")
        except StudioError as exc:
            result = (request, None, str(exc))
        except Exception as exc:  # a bug or an odd file must not take the editor down
            result = (request, None, f"could not load: {exc.__class__.__name__}: {exc}")
        if not self._closing:
            self.finished.emit(*result)


def _json_option(text: str, what: str) -> dict:
    text = text.strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise DataError(f"{what}: not valid JSON ({exc}); write e.g. {{\"size\": [28, 28]}}") from None
    if not isinstance(value, dict):
        raise DataError(f"{what}: expected an object like {{\"size\": [28, 28]}}, got {text}")
    return value


class DataPanel(QWidget):
    loaded = Signal(object)  # the DataSplit shown
    failed = Signal(str)
    applied = Signal(dict)  # the project's new data section

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.split: DataSplit | None = None
        self.batch: dict = {}
        self._loaded_config: dict | None = None
        self._pending_config: dict | None = None
        self._drafts: dict[str, tuple[str, str, str]] = {}
        self._request = 0
        self._apply_after = False
        self._loader = _Loader()
        self._loader.finished.connect(self._on_finished)
        self._build()
        self.sync_from_project()
        document.projectReplaced.connect(self._project_replaced)

    # ---- building -------------------------------------------------------------------
    def _build(self) -> None:
        self.source = QComboBox()
        names = dataset_names()
        for name in sorted(names, key=lambda n: (not dataset_entry(n).builtin, names.index(n))):
            entry = dataset_entry(name)
            label = name if entry.builtin else f"Import: {name.replace('_', ' ')}"
            self.source.addItem(label, name)
            self.source.setItemData(self.source.count() - 1, entry.description, Qt.ItemDataRole.ToolTipRole)
        self.source.currentIndexChanged.connect(self._source_changed)
        self.path = QLineEdit()
        self.path.setPlaceholderText("folder or file to import")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        self.options = QLineEdit()
        self.augment = QLineEdit()
        self.augment.editingFinished.connect(self._show_augmented)
        self.set_shape = QCheckBox("Set the Input node's shape from the data")
        self.set_shape.setChecked(True)
        form = QFormLayout()
        form.addRow("Data", self.source)
        form.addRow("Path", path_row)
        form.addRow("Options", self.options)
        form.addRow("Augment", self.augment)
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.load)
        self.use_button = QPushButton("Use this data")
        self.use_button.clicked.connect(self.apply)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.use_button)
        buttons.addStretch(1)
        self.status = QLabel("Choose data and press Preview.")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # messages quote file names like <speaker>_1.wav
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.images, self.waves, self.rows = ImageGrid(), WaveView(), RowsTable()
        self.samples = QStackedWidget()
        for w in (self.images, self.waves, self.rows):
            self.samples.addWidget(w)
        self.balance = BalanceBars()
        self.skipped = QListWidget()
        self.aug_images, self.aug_waves = ImageGrid(), WaveView()
        self.aug_stack = QStackedWidget()
        self.aug_message = QLabel("Write an augmentation above (e.g. " + AUGMENT_HINTS["image"] + ") to see it here.")
        self.aug_message.setWordWrap(True)
        for w in (self.aug_message, self.aug_images, self.aug_waves):
            self.aug_stack.addWidget(w)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.samples, "Samples")
        self.tabs.addTab(self.balance, "Classes")
        self.tabs.addTab(self.skipped, "Skipped")
        self.tabs.addTab(self.aug_stack, "Augmented")

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.set_shape)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        lay.addWidget(self.tabs, 1)
        self._source_changed()

    def _source_changed(self) -> None:
        name = self.source.currentData()
        # Each choice keeps its own path and options while the person compares them.
        previous = getattr(self, "_shown_source", None)
        if previous is not None and previous != name:
            self._drafts[previous] = (self.path.text(), self.options.text(), self.augment.text())
            for w, text in zip((self.path, self.options, self.augment), self._drafts.get(name, ("", "", ""))):
                w.setText(text)
        self._shown_source = name
        kind, _, hint = IMPORTERS.get(name, (None, "", ""))
        for w in (self.path, self.browse):
            w.setEnabled(kind is not None)
        self.path.setPlaceholderText(f"{kind} to import" if kind else "built in: no path needed")
        self.options.setPlaceholderText(f"options as JSON, e.g. {hint}" if hint else "options as JSON (optional)")

    def _project_folder(self) -> Path | None:
        return project_folder(self.document.project)

    def _browse(self) -> None:
        kind, pattern, _ = IMPORTERS.get(self.source.currentData(), (None, "", ""))
        start = resolve_data_paths({"path": self.path.text()}, self._project_folder()).get("path", "")
        if kind == "folder":
            chosen = QFileDialog.getExistingDirectory(self, "Choose the data folder", start)
        elif kind == "file":
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose the data file", start, pattern)
        else:
            return
        if chosen:
            self.path.setText(self._relative(chosen))

    def _relative(self, chosen: str) -> str:
        """Inside the project's folder, a path relative to it: the two can move together."""
        folder = self._project_folder()
        try:
            return Path(chosen).resolve().relative_to(folder).as_posix() if folder else chosen
        except ValueError:
            return chosen

    # ---- project <-> widgets --------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The data section the widgets describe; raises DataError for unreadable options."""
        name = self.source.currentData()
        cfg: dict[str, Any] = {"dataset": name}
        if name in IMPORTERS:
            cfg["path"] = self.path.text().strip()
        cfg.update(_json_option(self.options.text(), "options"))
        augment = _json_option(self.augment.text(), "augment")
        if augment:
            cfg["augment"] = augment
        return cfg

    def sync_from_project(self) -> None:
        data = dict(self.document.project.data or {})
        name = data.pop("dataset", None)
        index = self.source.findData(name) if name else -1
        if index >= 0:
            self.source.setCurrentIndex(index)
        self.path.setText(str(data.pop("path", "")))
        augment = data.pop("augment", None)
        self.options.setText(json.dumps(data) if data else "")
        self.augment.setText(json.dumps(augment) if augment else "")

    def _project_replaced(self, _project=None) -> None:
        self.split, self._loaded_config = None, None
        self.sync_from_project()
        if self._on_screen() and self.document.project.data:
            self.load()

    def _on_screen(self) -> bool:
        # A dock tabbed behind another is "visible" to Qt for a moment at start-up; loading
        # data (and torch) then would slow the window's opening for nothing.
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        QTimer.singleShot(0, self._load_if_shown)

    def _load_if_shown(self) -> None:
        if self._on_screen() and self.split is None and self._request == 0 and self.document.project.data:
            self.load()

    # ---- loading --------------------------------------------------------------------
    def load(self) -> None:
        try:
            cfg = self.config()
        except DataError as exc:
            return self._show_error(str(exc))
        training = self.document.project.training
        self._request += 1
        self._pending_config = cfg
        self._say(f"Loading {cfg['dataset']}…")
        self._loader.start(self._request, resolve_data_paths(cfg, self._project_folder()),
                           int(training.get("seed", 0)), float(training.get("val_split", 0.2)))

    def _on_finished(self, request: int, payload, error: str) -> None:
        if request != self._request:
            return  # an older request finished after a newer one started
        if error:
            self._apply_after = False
            return self._show_error(error)
        self.split, self.batch = payload["split"], payload["batch"]
        self._loaded_config = self._pending_config
        self._show(payload)
        self.loaded.emit(self.split)
        if self._apply_after:
            self._apply_after = False
            self._apply_now()

    def _say(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)

    def _show_error(self, message: str) -> None:
        self.status.setStyleSheet("color: #e0533f;")
        self.status.setText(message)
        self.failed.emit(message)

    def _show(self, payload) -> None:
        split, info = payload["split"], payload["split"].info
        self._say(f"{info.description}: {summary(split)}")
        self.balance.set_counts(payload["balance"], "Targets are not classes (regression or sequences).")
        self.skipped.clear()
        self.skipped.addItems(split.skipped)
        self.tabs.setTabText(2, f"Skipped ({len(split.skipped)})")
        field, spec = next(iter(info.inputs.items()), (None, {}))
        kind, batch = spec.get("kind"), self.batch
        captions = self._captions(batch, info)
        if kind == "image" and field in batch:
            boxes = batch.get(info.extra.get("boxes_field", ""), None)
            self.images.set_images(batch[field], captions, boxes, info.classes)
            self.samples.setCurrentWidget(self.images)
        elif kind == "waveform" and field in batch:
            self.waves.set_waves(batch[field], captions, spec.get("sample_rate") or info.extra.get("sample_rate", 0))
            self.samples.setCurrentWidget(self.waves)
        elif payload["pairs"]:
            self.rows.set_rows(["source", "target"], [list(p) for p in payload["pairs"]])
            self.samples.setCurrentWidget(self.rows)
        elif field in batch:
            values = batch[field].reshape(len(batch[field]), -1)
            names = info.extra.get("feature_names") or [f"{field}[{i}]" for i in range(values.shape[1])]
            self.rows.set_rows([info.extra.get("label_name", "label")] + names[:8],
                               [[c] + [f"{v:.4g}" for v in r[:8].tolist()] for c, r in zip(captions, values)])
            self.samples.setCurrentWidget(self.rows)
        hint = AUGMENT_HINTS.get(kind)
        self.augment.setPlaceholderText(f"e.g. {hint}" if hint else "no augmentations for this kind of data")
        self._show_augmented()

    @staticmethod
    def _captions(batch: dict, info) -> list[str]:
        y = batch.get("y")
        boxes = batch.get(info.extra.get("boxes_field", ""))
        if boxes is not None:
            return [f"{n} object{'s' * (n != 1)}" for n in (boxes[..., 0] >= 0).sum(1).tolist()]
        if y is None:
            return []
        if y.dtype.is_floating_point:
            return [f"{v:.3g}" for v in y.reshape(len(y), -1)[:, 0].tolist()]
        names = info.classes or []
        return [names[i] if 0 <= i < len(names) else str(i) for i in y.tolist()]

    def _show_augmented(self) -> None:
        if self.split is None or not self.batch:
            return
        try:
            cfg = _json_option(self.augment.text(), "augment")
            if not cfg:
                self.aug_stack.setCurrentWidget(self.aug_message)
                return
            from studio.data.augment import build_augment

            info = self.split.info
            small = {k: v[:8] for k, v in self.batch.items()}
            out = build_augment(cfg, info)(small)
        except StudioError as exc:
            self.aug_message.setText(str(exc))
            self.aug_stack.setCurrentWidget(self.aug_message)
            return
        field, spec = next(iter(info.inputs.items()))
        boxes_field = info.extra.get("boxes_field", "")
        if spec.get("kind") == "image":
            self.aug_images.set_pairs(small[field], out[field], small.get(boxes_field), out.get(boxes_field),
                                      info.classes)
            self.aug_stack.setCurrentWidget(self.aug_images)
        elif spec.get("kind") == "waveform":
            self.aug_waves.set_waves(out[field], self._captions(small, info), spec.get("sample_rate", 0), small[field])
            self.aug_stack.setCurrentWidget(self.aug_waves)

    # ---- using the data -------------------------------------------------------------
    def apply(self) -> None:
        """Use the chosen data: at once when its preview is loaded, else after loading."""
        try:
            cfg = self.config()
        except DataError as exc:
            return self._show_error(str(exc))
        strip = lambda c: {k: v for k, v in (c or {}).items() if k != "augment"}  # noqa: E731
        if self.split is not None and strip(self._loaded_config) == strip(cfg):
            self._apply_now()
        else:
            self._apply_after = True
            self.load()

    def _apply_now(self) -> None:
        cfg = self.config()
        info = self.split.info
        if cfg.get("augment"):
            from studio.data.augment import build_augment

            try:
                build_augment(cfg["augment"], info)
            except StudioError as exc:
                return self._show_error(str(exc))
        doc = self.document
        changes = self._input_changes(info) if self.set_shape.isChecked() else {}
        doc.undo_stack.beginMacro(f"Use data {cfg['dataset']}")
        try:
            doc.undo_stack.push(SetData(doc, cfg, self.sync_from_project))
            for node_id, params in changes.items():
                doc.set_params(node_id, params)
        finally:
            doc.undo_stack.endMacro()
        unread = [f for f in info.inputs if not any(doc.graph.spec(n).role == ROLE_INPUT and n.params.get("field") == f
                                                    for n in doc.graph.nodes)]
        note = f" No Input node reads {', '.join(unread)}." if unread else ""
        vocab = {spec["vocab"] for spec in info.inputs.values() if "vocab" in spec}
        if vocab:
            note += (f" The vocabulary has {max(vocab)} tokens: the Embedding and output layers need "
                     "that many.")
        shaped = f" Input shape set on {', '.join(changes)}." if changes else ""
        self._say(f"Using {cfg['dataset']}: {summary(self.split)}.{shaped}{note}")
        self.applied.emit(cfg)

    def _input_changes(self, info) -> dict[str, dict]:
        changes = {}
        for node in self.document.graph.nodes:
            if self.document.graph.spec(node).role != ROLE_INPUT or node.params.get("field") not in info.inputs:
                continue
            wanted = input_params(info.inputs[node.params["field"]])
            diff = {k: v for k, v in wanted.items() if node.params.get(k) != v}
            if diff:
                changes[node.id] = diff
        return changes


def install(window) -> DataPanel:
    panel = DataPanel(window.document)
    dock = window.add_panel(panel, "Data", "right")
    action = window.menu("&Data").addAction("Choose data…")
    action.triggered.connect(lambda _checked=False: (dock.show(), dock.raise_(), panel.source.setFocus()))
    window.data_panel = panel
    return panel
