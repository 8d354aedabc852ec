"""Every registered layer by category, with a search box and each layer's one-line doc.
Drag an entry onto the canvas (mime data names the layer id) or double-click to add."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QLineEdit, QStyle, QStyledItemDelegate, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from studio.ui.canvas.items import category_colour
from studio.ui.canvas.view import LAYER_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole
DOC_ROLE = Qt.ItemDataRole.UserRole + 1


def matches(spec, text: str) -> bool:
    text = text.strip().lower()
    if not text:
        return True
    hay = f"{spec.id} {spec.title} {spec.category} {spec.doc}".lower()
    return all(word in hay for word in text.split())


class _TwoLineDelegate(QStyledItemDelegate):
    """Title on the first line, the one-line doc in a smaller, muted second line."""

    def sizeHint(self, option, index):
        base = super().sizeHint(option, index)
        if index.data(TYPE_ROLE):
            return QSize(base.width(), int(option.fontMetrics.height() * 2.4))
        return base

    def paint(self, painter, option, index):
        doc = index.data(DOC_ROLE)
        if not doc:
            return super().paint(painter, option, index)
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        title = option.text
        option.text = ""
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        r = option.rect.adjusted(4, 2, -4, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        painter.save()
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        h = r.height() / 2
        painter.drawText(r.adjusted(0, 0, 0, -int(h)), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, option.font.pointSizeF() - 1))
        painter.setFont(small)
        muted = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText)
        painter.setPen(muted)
        fm = painter.fontMetrics()
        painter.drawText(r.adjusted(0, int(h), 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(doc, Qt.TextElideMode.ElideRight, r.width()))
        painter.restore()


class PaletteTree(QTreeWidget):
    def mimeTypes(self):
        return [LAYER_MIME]

    def mimeData(self, items):
        ids = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if not ids:
            return None
        mime = QMimeData()
        mime.setData(LAYER_MIME, ids[0].encode())
        mime.setText(ids[0])
        return mime


class Palette(QWidget):
    layerActivated = Signal(str)  # layer id, on double-click or Enter

    def __init__(self, registry, parent=None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setItemDelegate(_TwoLineDelegate(self.tree))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setIndentation(10)
        self.tree.setUniformRowHeights(False)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.search)
        lay.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._activated)
        self.populate()

    def populate(self) -> None:
        self.tree.clear()
        self.items: dict[str, QTreeWidgetItem] = {}
        # Categories in registration order: Input/Output first, then the families as declared.
        for category, specs in self.registry.categories().items():
            cat = QTreeWidgetItem([category])
            cat.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = cat.font(0)
            font.setBold(True)
            cat.setFont(0, font)
            cat.setForeground(0, category_colour(category).lighter(115))
            self.tree.addTopLevelItem(cat)
            for spec in sorted(specs, key=lambda s: s.title.lower()):
                item = QTreeWidgetItem([spec.title])
                item.setData(0, TYPE_ROLE, spec.id)
                item.setData(0, DOC_ROLE, spec.doc.split("\n")[0])
                item.setToolTip(0, f"<b>{spec.title}</b> ({spec.id})<br>{spec.doc}")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                cat.addChild(item)
                self.items[spec.id] = item
        self.tree.expandAll()

    def filter(self, text: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            cat = self.tree.topLevelItem(i)
            shown = 0
            for j in range(cat.childCount()):
                item = cat.child(j)
                ok = matches(self.registry.get(item.data(0, TYPE_ROLE)), text)
                item.setHidden(not ok)
                shown += ok
            cat.setHidden(shown == 0)

    def visible_ids(self) -> list[str]:
        return [i for i, item in self.items.items() if not item.isHidden() and not item.parent().isHidden()]

    def _activate_first(self) -> None:
        ids = self.visible_ids()
        if ids:
            self.layerActivated.emit(ids[0])

    def _activated(self, item, _col=0) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.layerActivated.emit(type_id)
