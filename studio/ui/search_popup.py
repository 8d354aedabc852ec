"""Tab on the canvas: a popup at the cursor to find a layer by typing and add it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from studio.ui.palette import matches


class SearchPopup(QFrame):
    layerChosen = Signal(str)

    def __init__(self, registry, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.registry = registry
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Add layer…")
        self.list = QListWidget()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.edit)
        lay.addWidget(self.list)
        self.resize(300, 320)
        self.edit.textChanged.connect(self.filter)
        self.edit.returnPressed.connect(self.choose)
        self.list.itemActivated.connect(lambda _i: self.choose())
        self.edit.installEventFilter(self)

    def popup_at(self, global_pos: QPoint) -> None:
        self.edit.clear()
        self.filter("")
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def filter(self, text: str) -> None:
        self.list.clear()
        for spec in sorted(self.registry, key=lambda s: (s.category, s.title)):
            if matches(spec, text):
                item = QListWidgetItem(f"{spec.title}  ·  {spec.category}")
                item.setData(Qt.ItemDataRole.UserRole, spec.id)
                item.setToolTip(spec.doc)
                self.list.addItem(item)
        self.list.setCurrentRow(0)
        # As tall as the matches, so the popup never hides more canvas than it must.
        rows = max(1, min(self.list.count(), 14))
        self.resize(300, self.edit.sizeHint().height() + rows * self.list.sizeHintForRow(0) + 16)

    def choose(self) -> None:
        item = self.list.currentItem()
        self.hide()
        if item is not None:
            self.layerChosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def eventFilter(self, obj, event) -> bool:
        # Up/Down in the search box move through the list, as in every search-to-add box.
        if obj is self.edit and event.type() == event.Type.KeyPress and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            row = self.list.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
            return True
        return super().eventFilter(obj, event)
