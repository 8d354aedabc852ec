"""The data panel: choose a built-in dataset or import one, look at it, and use it.

Each choice's options and augmentations are a typed form built from the Params on its
registry entry (as the inspector builds a layer's), so an importer registered anywhere
gets its form, path row and Browse button with no code here.

Loading runs in a thread, so a slow folder never freezes the editor; the preview shows a
few samples (images with their boxes, waveform and spectrogram, text pairs, rows),
class balance, split sizes, what was skipped and why, and the augmentation on real
samples. "Use this data" writes ``project.data`` as one undoable step, together with the
Input nodes' new shape when the box for it is ticked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.data.base import DataSplit
from studio.data.preview import class_balance, input_params, summary, take, text_pairs
from studio.data.registry import (AUGMENTATIONS, augment_params, dataset_entry, dataset_names, load_data,
                                  project_folder, resolve_data_paths)
from studio.spec.inputs import sample_form
from studio.spec.roles import ROLE_INPUT
from studio.ui.commands import SetData
from studio.ui.data_preview import BalanceBars, ImageGrid, RowsTable, WaveView
from studio.ui.param_editors import ParamEditor, build_form
from studio.ui.workers import create_worker

PREVIEW_SAMPLES = 32


def _load_preview(config: dict, seed: int, val_split: float) -> dict:
    """Load the data and what the preview shows of it (on a worker thread)."""
    split = load_data(config, seed=seed, val_split=val_split)
    return {"split": split, "batch": take(split.train, PREVIEW_SAMPLES),
            "balance": class_balance(split), "pairs": text_pairs(split)}


class _Loader(QObject):
    """Starts a load on a worker thread and reports its result, tagged with its request."""

    finished = Signal(int, object, str)

    def start(self, request: int, config: dict, seed: int, val_split: float) -> None:
        worker = create_worker(_load_preview, config, seed, val_split, _name="data-preview", _start=False,
                               _connect={"returned": self._returned, "errored": self._errored})
        worker.request = request
        worker.start()

    # Slots are methods, so a loader deleted meanwhile (its panel closed) is simply not called.
    def _returned(self, payload: dict) -> None:
        self.finished.emit(self.sender().request, payload, "")

    def _errored(self, exc: BaseException) -> None:
        self.finished.emit(self.sender().request, None, _load_error(exc))


def _load_error(exc: BaseException) -> str:
    if isinstance(exc, StudioError):
        return str(exc)
    return f"could not load: {exc.__class__.__name__}: {exc}"  # a bug or an odd file: the editor stays


class SourceForm(QWidget):
    """One dataset's or importer's options and its augmentations, as typed editors built
    from the Params on its registry entry. Each choice in the panel keeps its own form, so
    its values stay while the person compares choices."""

    def __init__(self, entry, browse, on_change, on_augment, parent=None) -> None:
        super().__init__(parent)
        self.entry = entry
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        path = entry.path_param()
        params = ([path] if path else []) + [p for p in entry.params if p is not path]
        self.options_form, self.options = build_form(params, on_change, entry.name, browse)
        if not params:
            self.options_form.addRow(QLabel("Built in: no options."))
        lay.addLayout(self.options_form)
        self.augment_box = QGroupBox("Augment (training batches)")
        self.augment_form, self.augment = build_form(augment_params(), on_augment, "augment")
        self.no_augment = QLabel("No augmentations for this kind of data.")
        self.augment_form.addRow(self.no_augment)
        self.augment_box.setLayout(self.augment_form)
        lay.addWidget(self.augment_box)
        self.show_augmentations(None)
        self.set_config({})

    @property
    def path(self) -> ParamEditor | None:
        return self.options.get("path") if self.entry.path_param() else None

    def show_augmentations(self, kinds: set[str] | None) -> None:
        """Only the augmentations that apply to the loaded data's input kinds (all of them
        before anything is loaded)."""
        shown = {p.name for p in augment_params(kinds)}
        any_real = bool({a.param.name for a in AUGMENTATIONS} & shown)
        for name, ed in self.augment.items():
            self.augment_form.setRowVisible(ed.widget, name in shown and any_real)
        self.augment_form.setRowVisible(self.no_augment, not any_real)

    def set_config(self, config: dict[str, Any]) -> None:
        augment = dict(config.get("augment") or {})
        if isinstance(augment.get("flip"), bool):
            augment["flip"] = 0.5 if augment["flip"] else 0.0
        for name, ed in self.options.items():
            ed.set_value(config.get(name, "" if ed is self.path else ed.param.default))
        for name, ed in self.augment.items():
            ed.set_value(augment.get(name, ed.param.default))

    def config(self) -> dict[str, Any]:
        """The data section these editors describe: the path, and the options and
        augmentations that differ from their defaults. Raises BadParameter naming an
        option whose text cannot be read."""
        cfg: dict[str, Any] = {"dataset": self.entry.name}
        for name, ed in self.options.items():
            value = ed.value()
            if ed is self.path and not ed.param.optional:
                cfg[name] = (value or "").strip()
            elif value != ed.param.default:
                cfg[name] = list(value) if isinstance(value, tuple) else value
        augment = {name: ed.value() for name, ed in self.augment.items()}
        augment = {name: v for name, v in augment.items() if v != self.augment[name].param.default}
        if set(augment) - {"seed"}:
            cfg["augment"] = augment
        return cfg


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
        self._forms: dict[str, SourceForm] = {}
        self._request = 0
        self._apply_after = False
        self._loader = _Loader()
        self._loader.finished.connect(self._on_finished)
        self._build()
        self.sync_from_project()
        document.projectReplaced.connect(self._project_replaced)
        document.dataChanged.connect(self.sync_from_project)

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
        self.forms = QStackedWidget()
        self.set_shape = QCheckBox("Set the Input node's shape from the data")
        self.set_shape.setChecked(True)
        form = QFormLayout()
        form.addRow("Data", self.source)
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
        self.aug_message = QLabel("Set an augmentation above (e.g. flip 0.5, noise 0.05) to see it here.")
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
        lay.addWidget(self.forms)
        lay.addWidget(self.set_shape)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        lay.addWidget(self.tabs, 1)
        self._source_changed()

    def _source_changed(self) -> None:
        current = self.form_for(self.source.currentData())
        self.forms.setCurrentWidget(current)
        # The stack takes the height of the form shown, not of the tallest one built.
        for form in self._forms.values():
            form.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred if form is current
                               else QSizePolicy.Policy.Ignored)
        self.forms.updateGeometry()

    def form_for(self, name: str) -> SourceForm:
        """The form of one dataset or importer, built from its Params when first shown."""
        if name not in self._forms:
            form = SourceForm(dataset_entry(name), self._browse, self._option_changed, self._augment_changed)
            self._forms[name] = form
            self.forms.addWidget(form)
        return self._forms[name]

    @property
    def form(self) -> SourceForm:
        return self.form_for(self.source.currentData())

    @property
    def path(self) -> QLineEdit | None:
        """The text field of the chosen importer's path (None for a built-in set)."""
        ed = self.form.path
        return ed.line if ed else None

    @property
    def browse(self) -> QPushButton | None:
        ed = self.form.path
        return ed.browse_button if ed else None

    def _option_changed(self, param, value, error: str | None) -> bool:
        if error is not None:
            self._show_error(error)
            return False
        return True

    def _augment_changed(self, param, value, error: str | None) -> bool:
        if error is not None:
            self._show_error(error)
            return False
        QTimer.singleShot(0, self._show_augmented)  # once the editor holds the new value
        return True

    def _project_folder(self) -> Path | None:
        return project_folder(self.document.project)

    def _browse(self, param, text: str) -> str | None:
        start = resolve_data_paths({"path": text}, self._project_folder()).get("path", "")
        if param.kind == "folder":
            chosen = QFileDialog.getExistingDirectory(self, "Choose the data folder", start)
        else:
            pattern = " ".join(f"*{e}" for e in param.choices)
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose the data file", start,
                                                    f"{param.doc or 'Data files'} ({pattern})" if pattern else "")
        return self._relative(chosen) if chosen else None

    def _relative(self, chosen: str) -> str:
        """Inside the project's folder, a path relative to it: the two can move together."""
        folder = self._project_folder()
        try:
            return Path(chosen).resolve().relative_to(folder).as_posix() if folder else chosen
        except ValueError:
            return chosen

    # ---- project <-> widgets --------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The data section the chosen form describes; raises StudioError naming an option
        whose text cannot be read."""
        return self.form.config()

    def sync_from_project(self) -> None:
        data = dict(self.document.project.data or {})
        name = data.get("dataset")
        index = self.source.findData(name) if name else -1
        if index >= 0:
            self.source.setCurrentIndex(index)
            self.form.set_config(data)

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
        except StudioError as exc:
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
        form, batch = sample_form(spec.get("kind")), self.batch  # declared by the input kind
        captions = self._captions(batch, info)
        if form == "image" and field in batch:
            boxes = batch.get(info.extra.get("boxes_field", ""), None)
            self.images.set_images(batch[field], captions, boxes, info.classes)
            self.samples.setCurrentWidget(self.images)
        elif form == "waveform" and field in batch:
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
        self.form.show_augmentations({sample_form(spec.get("kind")) for spec in info.inputs.values()})
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
            cfg = self.config().get("augment")
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
        form = sample_form(spec.get("kind"))
        if form == "image":
            self.aug_images.set_pairs(small[field], out[field], small.get(boxes_field), out.get(boxes_field),
                                      info.classes)
            self.aug_stack.setCurrentWidget(self.aug_images)
        elif form == "waveform":
            self.aug_waves.set_waves(out[field], self._captions(small, info), spec.get("sample_rate", 0), small[field])
            self.aug_stack.setCurrentWidget(self.aug_waves)

    # ---- using the data -------------------------------------------------------------
    def apply(self) -> None:
        """Use the chosen data: at once when its preview is loaded, else after loading."""
        try:
            cfg = self.config()
        except StudioError as exc:
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
            doc.undo_stack.push(SetData(doc, cfg))
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
