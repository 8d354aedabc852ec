"""The selected node's parameters as typed editors built from its LayerSpec, its shapes
and costs, and its training options. A refused value shows the model's message and
the editor returns to the value the node really has."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from studio.core.errors import StudioError
from studio.ui.canvas.items import human
from studio.ui.param_editors import ParamEditor

class Inspector(QScrollArea):
    statusMessage = Signal(str)
    selectRequested = Signal(list)  # node ids (after a rename the node's item is new)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.ids: list[str] = []
        self.editors: dict[str, ParamEditor] = {}
        self._key = None
        self.setWidgetResizable(True)
        self.setMinimumWidth(260)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #e0403a")
        self.message.setObjectName("inspector_message")
        document.graphChanged.connect(self.refresh)
        document.projectReplaced.connect(lambda _p: self.set_selection([]))
        self.set_selection([])

    # ---- building --------------------------------------------------------------------
    def set_selection(self, ids: list[str]) -> None:
        self.ids = [i for i in ids if i in self.document.graph]
        self._rebuild()

    def _types(self) -> set[str]:
        g = self.document.graph
        return {g.node(i).type for i in self.ids}

    def _rebuild(self) -> None:
        g = self.document.graph
        self._key = (tuple(self.ids), tuple(sorted(self._types())))
        self.editors = {}
        page = QWidget()
        lay = QVBoxLayout(page)
        self.message.setParent(None)
        self.message.clear()
        if not self.ids:
            hint = QLabel("Select a layer to see and change its parameters.\n\n"
                          "Drag layers from the palette, or press Tab on the canvas to search.")
            hint.setWordWrap(True)
            lay.addWidget(hint)
            lay.addStretch(1)
            self.setWidget(page)
            return
        types = self._types()
        spec = g.spec(self.ids[0]) if len(types) == 1 else None
        head = QGroupBox("Layer" if len(self.ids) == 1 else f"{len(self.ids)} layers")
        form = QFormLayout(head)
        if len(self.ids) == 1:
            self.name_edit = QLineEdit(self.ids[0])
            self.name_edit.setObjectName("node_name")
            self.name_edit.editingFinished.connect(self._rename)
            form.addRow("Name", self.name_edit)
        type_label = QLabel(f"{spec.title} ({spec.id})" if spec else "mixed types")
        form.addRow("Type", type_label)
        if spec:
            doc = QLabel(spec.doc)
            doc.setWordWrap(True)
            form.addRow(doc)
        lay.addWidget(head)
        if spec and spec.params:
            box = QGroupBox("Parameters")
            pform = QFormLayout(box)
            for p in spec.params:
                ed = ParamEditor(p, self._param_changed, spec.id)
                self.editors[p.name] = ed
                label = QLabel(p.name)
                label.setToolTip(ed.widget.toolTip())
                pform.addRow(label, ed.widget)
            lay.addWidget(box)
        train = QGroupBox("Training")
        tform = QFormLayout(train)
        self.frozen_box = QCheckBox("Frozen (weights not trained)")
        self.frozen_box.setObjectName("frozen")
        self.frozen_box.clicked.connect(self._frozen_clicked)
        self.lr_edit = QLineEdit()
        self.lr_edit.setObjectName("lr_scale")
        self.lr_edit.setToolTip("Learning rate of this layer = project learning rate × this (0 to 1000)")
        self.lr_edit.editingFinished.connect(self._lr_done)
        tform.addRow(self.frozen_box)
        tform.addRow("Learning-rate multiplier", self.lr_edit)
        lay.addWidget(train)
        self.info = QLabel()
        self.info.setObjectName("node_info")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        info_box = QGroupBox("Shapes and cost")
        QVBoxLayout(info_box).addWidget(self.info)
        lay.addWidget(info_box)
        lay.addWidget(self.message)
        lay.addStretch(1)
        self.setWidget(page)
        self.refresh()

    def refresh(self) -> None:
        g = self.document.graph
        ids = [i for i in self.ids if i in g]
        if ids != self.ids or (tuple(ids), tuple(sorted({g.node(i).type for i in ids}))) != self._key:
            self.ids = ids
            self._rebuild()
            return
        if not ids:
            return
        nodes = [g.node(i) for i in ids]
        for name, ed in self.editors.items():
            values = [n.params[name] for n in nodes]
            ed.set_value(values[0], mixed=any(v != values[0] for v in values))
        frozen = {n.frozen for n in nodes}
        self.frozen_box.blockSignals(True)
        self.frozen_box.setTristate(len(frozen) > 1)
        self.frozen_box.setCheckState(Qt.CheckState.PartiallyChecked if len(frozen) > 1 else
                                      Qt.CheckState.Checked if nodes[0].frozen else Qt.CheckState.Unchecked)
        self.frozen_box.blockSignals(False)
        lrs = {n.lr_scale for n in nodes}
        self.lr_edit.setText(f"{nodes[0].lr_scale:g}" if len(lrs) == 1 else "")
        self.lr_edit.setPlaceholderText("(several values)" if len(lrs) > 1 else "")
        if len(ids) == 1 and self.name_edit.text() != ids[0]:
            self.name_edit.setText(ids[0])
        self.info.setText(self._info_html(ids))

    def _info_html(self, ids: list[str]) -> str:
        a = self.document.analysis()
        if len(ids) > 1:
            params = sum(a.nodes[i].params for i in ids if i in a.nodes)
            flops = sum(a.nodes[i].flops for i in ids if i in a.nodes)
            return f"Params: {params:,}<br>FLOPs per sample: {human(flops)}"
        info = a.nodes.get(ids[0])
        rows = []
        if info is not None:
            for name, shape in info.inputs.items():
                rows.append(f"in <b>{name}</b>: {shape.describe()}")
            for name, shape in info.outputs.items():
                rows.append(f"out <b>{name}</b>: {shape.describe()}")
            rows.append(f"Params: {info.params:,}")
            rows.append(f"FLOPs per sample: {human(info.flops)}")
        for p in a.problems_of(ids[0]):
            rows.append(f"<span style='color:#e0403a'>{p.severity}: {p.message}</span>")
        return "<br>".join(rows)

    # ---- edits -------------------------------------------------------------------------
    def _param_changed(self, param, value, error: str | None) -> bool:
        if error is None:
            try:
                if len(self.ids) == 1:
                    self.document.set_params(self.ids[0], {param.name: value})
                else:
                    self.document.set_params_many(self.ids, {param.name: value})
                self.message.clear()
                return True
            except StudioError as exc:
                error = str(exc)
        self.message.setText(error)
        self.statusMessage.emit(error)
        return False

    def _rename(self) -> None:
        new = self.name_edit.text().strip()
        if not self.ids or new == self.ids[0]:
            return
        try:
            old = self.ids[0]
            self.ids = [new]
            self.document.rename(old, new)
            self.message.clear()
            self.selectRequested.emit([new])
        except StudioError as exc:
            self.ids = [old]
            self.message.setText(str(exc))
            self.name_edit.setText(old)

    def _frozen_clicked(self) -> None:
        want = self.frozen_box.checkState() != Qt.CheckState.Unchecked
        self.frozen_box.setTristate(False)
        self.document.set_training(self.ids, frozen=want)

    def _lr_done(self) -> None:
        text = self.lr_edit.text().strip()
        if not text:
            return
        try:
            value = float(text)
            nodes = [self.document.graph.node(i) for i in self.ids]
            if all(n.lr_scale == value for n in nodes):
                return
            self.document.set_training(self.ids, lr_scale=value)
            self.message.clear()
        except (ValueError, StudioError) as exc:
            msg = str(exc) if isinstance(exc, StudioError) else f"learning-rate multiplier: {text!r} is not a number"
            self.message.setText(msg)
            self.statusMessage.emit(msg)
            self.refresh()
