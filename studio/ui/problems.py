"""The analysis problem list; clicking a problem selects its node on the canvas."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from studio.core.analysis import fitting_losses
from studio.ui.canvas.items import ERROR_COLOUR, WARNING_COLOUR

NOTE_COLOUR = "#5a9bd5"  # worth knowing, stops nothing

NODE_ROLE = Qt.ItemDataRole.UserRole
FIX_ROLE = Qt.ItemDataRole.UserRole + 1  # a problem one click fixes


class ProblemsPanel(QTreeWidget):
    nodeActivated = Signal(str)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.setColumnCount(3)
        self.setHeaderLabels(["Severity", "Node", "Problem"])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setColumnWidth(0, 80)
        self.setColumnWidth(1, 120)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        document.graphChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.clear()
        problems = self.document.analysis().problems
        if not problems:
            item = QTreeWidgetItem(["", "", "No problems found"])
            item.setForeground(2, QColor("#3cb371"))
            self.addTopLevelItem(item)
        fits = fitting_losses(self.document.graph, self.document.analysis()) \
            if any(p.code == "no_loss" for p in problems) else []
        for p in problems:
            item = QTreeWidgetItem([p.severity, p.node or "", p.message])
            if p.code == "no_loss" and fits:
                # One click adds the loss that fits each output.
                names = ", ".join(sorted({self.document.graph.registry.get(loss).title for _o, loss, _w in fits}))
                item.setText(2, f"Click to add {names}. {p.message[0].upper()}{p.message[1:]}")
                item.setData(0, FIX_ROLE, "add_loss")
            item.setForeground(0, QColor(ERROR_COLOUR if p.severity == "error" else
                                         WARNING_COLOUR if p.severity == "warning" else NOTE_COLOUR))
            item.setToolTip(2, p.message)
            item.setData(0, NODE_ROLE, p.node)
            self.addTopLevelItem(item)

    def _clicked(self, item, _col=0) -> None:
        if item.data(0, FIX_ROLE) == "add_loss":
            added = self.document.add_fitting_losses()
            if added:
                self.nodeActivated.emit(added[0])
            return
        node = item.data(0, NODE_ROLE)
        if node:
            self.nodeActivated.emit(node)
