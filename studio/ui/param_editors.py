"""Editors built from :class:`~studio.layers.spec.Param` declarations: the one factory the
inspector (layer parameters), the training panel (settings) and the data panel (dataset
options and augmentations) share.

An editor calls ``on_change(param, value, error)`` when a person commits a value, or with
``error`` set (the Param's own message) when a text cannot be read or a number is out of
range; then, or when ``on_change`` returns False, the editor goes back to the value it was
last given with :meth:`ParamEditor.set_value`. Number fields never clamp silently.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QWidget)

from studio.core.errors import StudioError

INT_LIMIT = 2**31 - 1
AUTO = "auto"

OnChange = Callable[[Any, Any, "str | None"], bool]
Browse = Callable[[Any, str], "str | None"]


class _OpenRange:
    """What both spin boxes share: the range is left open, so a value outside the Param's
    range reaches the owner, who refuses it with a message naming it (a spin box would
    clamp it silently); the arrows still stop at the Param's bounds; a text that cannot
    be read is reported through ``rejected`` instead of quietly going back."""

    bounds: tuple[float | None, float | None] = (None, None)
    rejected: Callable[[str], None] | None = None

    def _parse(self, text: str):
        raise NotImplementedError

    def validate(self, text: str, pos: int):
        try:
            self._parse(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos  # "1e-" on the way to "1e-5"
        return QValidator.State.Acceptable, text, pos

    def valueFromText(self, text: str):  # noqa: N802 (Qt API)
        return self._parse(text)

    def fixup(self, text: str) -> str:
        # Qt calls this when Enter or leaving the field finds a text that is not a
        # number, just before it puts the old value back.
        if self.rejected is not None and text.strip():
            self.rejected(text)
        return text

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt API)
        lo, hi = self.bounds
        value = self.value() + steps * self.singleStep()
        value = value if lo is None else max(lo, value)
        value = value if hi is None else min(hi, value)
        self.setValue(value)
        self.selectAll()

    def stepEnabled(self):  # noqa: N802 (Qt API)
        lo, hi = self.bounds
        value = self.value()
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if lo is None or value > lo:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if hi is None or value < hi:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags


class IntSpinBox(_OpenRange, QSpinBox):
    """An integer; 0 typed into a field that starts at 1 is refused with the Param's
    message, not turned back into the old value."""

    def __init__(self) -> None:
        super().__init__()
        self.setRange(-INT_LIMIT, INT_LIMIT)
        self.setKeyboardTracking(False)  # typing 128 sets 128, not 1, 12 and 128

    def _parse(self, text: str) -> int:
        return int(text.strip())

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt API)
        return str(value)


class FloatSpinBox(_OpenRange, QDoubleSpinBox):
    """A float as people write it: 0.003, 1e-05, 0 (not 0.00300000), typed the same way."""

    def __init__(self) -> None:
        super().__init__()
        self.setDecimals(12)  # what is kept; the text shows what matters
        self.setRange(-1e300, 1e300)
        self.setKeyboardTracking(False)  # "1e-5" is set on Enter, not as 1, then 1e-5

    def _parse(self, text: str) -> float:
        return float(text)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        return f"{value:g}"


def label_for(param) -> str:
    return param.name.replace("_", " ").capitalize()


class ParamEditor:
    """One editor widget for one Param. ``widget`` goes into a form; ``line`` is the text
    field of text-like editors (None for check boxes, lists and spin boxes)."""

    def __init__(self, param, on_change: OnChange, owner: str = "", browse: Browse | None = None) -> None:
        self.param = param
        self.on_change = on_change
        self.owner = owner
        self.line: QLineEdit | None = None
        self.browse_button: QPushButton | None = None
        self._value: Any = None
        k = param.kind
        if k == "bool" and not param.optional:
            w = QCheckBox()
            w.toggled.connect(lambda v: self._commit(bool(v)))
        elif k == "bool" or k == "choice":
            w = QComboBox()
            w.addItems([AUTO, "true", "false"] if k == "bool" else list(param.choices))
            w.currentIndexChanged.connect(lambda i: i >= 0 and self._commit(self._combo_value(i)))
        elif k == "int" and not param.optional:
            w = IntSpinBox()
            w.bounds = (param.min, param.max)
            w.rejected = self._text_refused
            w.valueChanged.connect(lambda v: self._commit(int(v)))
        elif k == "float" and not param.optional:
            w = FloatSpinBox()
            w.bounds = (param.min, param.max)
            w.rejected = self._text_refused
            w.setSingleStep(_step(param))
            w.valueChanged.connect(lambda v: self._commit(float(v)))
        else:
            self.line = QLineEdit()
            self.line.editingFinished.connect(self._text_done)
            if param.optional:
                self.line.setPlaceholderText(AUTO)
            w = self.line
            if k in ("file", "folder") and browse is not None:
                self.browse_button = QPushButton("Browse…")
                self.browse_button.clicked.connect(lambda _c=False: self._browse(browse))
                w = QWidget()
                row = QHBoxLayout(w)
                row.setContentsMargins(0, 0, 0, 0)
                row.addWidget(self.line, 1)
                row.addWidget(self.browse_button)
        tip = f"{param.doc}. " if param.doc else ""
        w.setToolTip(f"{tip}Allowed: {param.allowed()}")
        w.setObjectName(f"param_{param.name}")
        self.widget = w

    # ---- showing a value --------------------------------------------------------------
    def set_value(self, value, mixed: bool = False) -> None:
        self._value = value
        w = self.line or self.widget
        w.blockSignals(True)
        try:
            if isinstance(w, QCheckBox):
                w.setTristate(mixed)
                w.setCheckState(Qt.CheckState.PartiallyChecked if mixed else
                                Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)
            elif isinstance(w, QComboBox):
                text = AUTO if value is None else ("true" if value else "false") if self.param.kind == "bool" \
                    else str(value)
                w.setCurrentIndex(-1 if mixed else w.findText(text))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(value)
            else:
                w.setText("" if mixed else self.param.to_text(value))
                w.setPlaceholderText("(several values)" if mixed else AUTO if self.param.optional else "")
        finally:
            w.blockSignals(False)

    def value(self):
        """What the editor shows now, read and validated (raises BadParameter); a text
        field counts even before its editing is finished."""
        w = self.line or self.widget
        if isinstance(w, QCheckBox):
            value = w.isChecked()
        elif isinstance(w, QComboBox):
            value = self._combo_value(w.currentIndex())
        elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
            value = w.value()
        else:
            return self.param.from_text(self.owner, w.text())
        return self.param.validate(self.owner, value)

    def setEnabled(self, enabled: bool) -> None:  # noqa: N802 (as a widget says it)
        self.widget.setEnabled(enabled)

    # ---- committing -------------------------------------------------------------------
    def _combo_value(self, index: int):
        text = self.widget.itemText(index)
        if self.param.kind == "bool":
            return None if text == AUTO else text == "true"
        return text

    def _text_done(self) -> None:
        text = self.line.text()
        if text.strip() == self.param.to_text(self._value):
            return
        try:
            value = self.param.from_text(self.owner, text)
        except StudioError as exc:
            self.on_change(self.param, None, str(exc))
            self.set_value(self._value)
            return
        self._commit(value)

    def _text_refused(self, text: str) -> None:
        """A spin box's text that is no number: the Param's own message, as for a text field."""
        try:
            self.param.from_text(self.owner, text)
        except StudioError as exc:
            self.on_change(self.param, None, str(exc))

    def _commit(self, value) -> None:
        try:
            value = self.param.validate(self.owner, value)  # out of range: the Param's message, shown
        except StudioError as exc:
            self.on_change(self.param, None, str(exc))
            self.set_value(self._value)
            return
        if isinstance(value, tuple):
            value = list(value)  # as the project file holds it
        if self.on_change(self.param, value, None):
            self._value = value
        else:
            self.set_value(self._value)

    def _browse(self, browse: Browse) -> None:
        chosen = browse(self.param, self.line.text())
        if chosen:
            self.line.setText(chosen)
            self._text_done()


def _step(param) -> float:
    span = (param.max - param.min) if param.min is not None and param.max is not None else None
    if param.name == "learning_rate":
        return 0.001
    return 0.05 if span is None or span >= 1 else 0.01


def build_form(params, on_change: OnChange, owner: str = "", browse: Browse | None = None,
               form: QFormLayout | None = None, label: Callable[[Any], str] = label_for
               ) -> tuple[QFormLayout, dict[str, ParamEditor]]:
    """A form with one labelled editor per Param, in declaration order."""
    form = form if form is not None else QFormLayout()
    editors = {}
    for p in params:
        ed = ParamEditor(p, on_change, owner, browse)
        editors[p.name] = ed
        text = QLabel(label(p))
        text.setToolTip(ed.widget.toolTip())
        form.addRow(text, ed.widget)
    return form, editors
