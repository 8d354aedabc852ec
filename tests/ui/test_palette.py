"""The layer palette: every layer by category, a search that filters by name, category and
description, each entry showing its one-line description, and drag data naming the layer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QStyleOptionViewItem

from studio.ui.canvas.view import LAYER_MIME
from studio.ui.palette import Palette


@pytest.fixture
def palette(qtbot, registry):
    widget = Palette(registry)
    qtbot.addWidget(widget)
    widget.resize(280, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _shown_categories(palette) -> list[str]:
    tree = palette.tree
    return [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())
            if not tree.topLevelItem(i).isHidden()]


def test_every_layer_is_listed_under_its_category(palette, registry):
    assert set(palette.visible_ids()) == {spec.id for spec in registry}
    assert _shown_categories(palette) == list(registry.categories())
    conv = palette.items["Conv2d"]
    assert conv.parent().text(0) == registry.get("Conv2d").category
    assert conv.text(0) == registry.get("Conv2d").title


def test_typing_in_the_search_box_filters_and_hides_empty_categories(palette, registry):
    QTest.keyClicks(palette.search, "pool 2d")
    assert sorted(palette.visible_ids()) == ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]
    assert _shown_categories(palette) == ["Pooling"]
    palette.search.clear()
    assert set(palette.visible_ids()) == {spec.id for spec in registry}


def test_search_finds_a_layer_by_words_of_its_description(palette, registry):
    QTest.keyClicks(palette.search, "short-term memory")
    assert palette.visible_ids() == ["LSTM"]
    palette.search.clear()
    QTest.keyClicks(palette.search, "RECURRENT")  # a category, in any case
    assert sorted(palette.visible_ids()) == ["GRU", "LSTM"]


def test_a_search_that_matches_nothing_shows_nothing(palette):
    QTest.keyClicks(palette.search, "no such layer anywhere")
    assert palette.visible_ids() == [] and _shown_categories(palette) == []


def test_enter_in_the_search_box_adds_the_first_match(palette, qtbot):
    QTest.keyClicks(palette.search, "batchnorm 2d")
    with qtbot.waitSignal(palette.layerActivated) as signal:
        QTest.keyClick(palette.search, Qt.Key.Key_Return)
    assert signal.args == ["BatchNorm2d"]


def test_double_clicking_an_entry_adds_that_layer(palette, qtbot):
    tree = palette.tree
    item = palette.items["Dropout"]
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    with qtbot.waitSignal(palette.layerActivated) as signal:
        QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args == ["Dropout"]


def test_each_entry_shows_its_one_line_description_under_the_title(palette, registry):
    """The row is tall enough for two lines, and painting it draws the title and then,
    below it, the first line of the layer's doc; the tooltip has the whole doc."""
    drawn: list[tuple[int, str]] = []

    class Recorder(QPainter):
        def drawText(self, rect, flags, text, *rest):  # noqa: N802 - Qt API
            drawn.append((rect.top(), text))
            return super().drawText(rect, flags, text, *rest)

    tree = palette.tree
    item = palette.items["LSTM"]
    index = tree.indexFromItem(item)
    option = QStyleOptionViewItem()
    option.initFrom(tree)
    option.widget = tree
    option.rect = QRect(0, 0, 2000, 48)
    delegate = tree.itemDelegate()
    assert delegate.sizeHint(option, index).height() >= 2 * option.fontMetrics.height()
    image = QImage(2000, 48, QImage.Format.Format_ARGB32)
    painter = Recorder(image)
    delegate.paint(painter, option, index)
    painter.end()
    doc = registry.get("LSTM").doc.split("\n")[0]
    assert [text for _, text in drawn] == ["LSTM", doc]
    assert drawn[1][0] > drawn[0][0]  # the description sits below the title
    assert registry.get("LSTM").doc in item.toolTip(0)


def test_dragging_an_entry_carries_the_layer_id(palette):
    item = palette.items["Conv2d"]
    mime = palette.tree.mimeData([item])
    assert LAYER_MIME in palette.tree.mimeTypes()
    assert mime.data(LAYER_MIME) == QByteArray(b"Conv2d")
    assert mime.text() == "Conv2d"
    category = item.parent()
    assert palette.tree.mimeData([category]) is None  # a category heading is not a layer
    assert not category.flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_dropping_the_drag_data_on_the_canvas_adds_the_named_layer(window, drive):
    from PySide6.QtCore import QPoint

    assert drive.drop_layer(window, "GRU", QPoint(300, 300))
    assert [n.type for n in window.document.graph] == ["GRU"]
