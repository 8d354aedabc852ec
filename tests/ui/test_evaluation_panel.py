from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from studio.core.project import load


@pytest.fixture
def panel(make_window, digits_run, qtbot):
    from studio.ui import evaluation_panel

    torch.set_num_threads(1)
    path, run = digits_run
    window = make_window(load(path))
    panel = evaluation_panel.show_panel(window)
    return panel


def _evaluate(panel, qtbot):
    assert panel.runs.count() == 1
    with qtbot.waitSignal(panel.evaluated, timeout=60_000):
        panel.go.click()
    return panel.result


def test_the_matrix_table_and_gallery_show_the_evaluation(panel, qtbot):
    result = _evaluate(panel, qtbot)
    assert "accuracy" in panel.summary.text()
    # One image, one pixel per cell, scaled up.
    assert panel.matrix.image.width() == panel.matrix.image.height() == 10
    side = panel.matrix.width()
    r, c = panel.matrix.cell_at(side * 0.35, side * 0.05)
    assert (r, c) == (0, 3)
    assert panel.matrix.describe(r, c).startswith(f"true 0, predicted 3: {result.confusion[0, 3]}")
    wheel = QWheelEvent(QPointF(5, 5), QPointF(5, 5), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    panel.matrix.wheelEvent(wheel)
    assert panel.matrix.width() > side
    # The per-class table sorts by a column.
    model = panel.table_model
    assert model.rowCount() == 10
    support = [model.horizontalHeaderItem(i).text() for i in range(model.columnCount())].index("support")
    panel.table.sortByColumn(support, Qt.SortOrder.DescendingOrder)
    shown = [model.item(i, support).data(Qt.ItemDataRole.DisplayRole) for i in range(10)]
    assert shown == sorted(shown, reverse=True)
    # The gallery lists the mistakes; the switch lists the right ones.
    gallery = panel.gallery_model
    assert gallery.rowCount() == int(result.wrong.sum())
    panel.show_correct.setChecked(True)
    assert gallery.rowCount() == int((~result.wrong).sum())
    first = gallery.index(0)
    assert gallery.data(first, Qt.ItemDataRole.DecorationRole) is not None  # the digit, as an image
    panel.gallery.clicked.emit(first)
    assert "true:" in panel.detail.text() and "%" in panel.detail.text()


def test_a_sample_known_to_be_wrong_is_in_the_gallery(panel, qtbot, digits_run):
    from studio.data.base import DatasetInfo, TensorData
    from studio.evaluation import evaluate, load_run

    result = _evaluate(panel, qtbot)
    project = panel.document.project
    loaded = load_run(project, digits_run[1])
    x, y = result.data.fields["x"], result.data.fields["y"].clone()
    with torch.no_grad():
        y[7] = int(loaded.model(x[7:8]).argmin(-1))
    info = DatasetInfo("digits", "classification", classes=result.classes, inputs={"x": result.input_spec})
    panel.show_result(evaluate(project, loaded, data=(TensorData({"x": x, "y": y}), info)))
    panel.show_correct.setChecked(False)
    shown = [panel.gallery_model.data(panel.gallery_model.index(i), Qt.ItemDataRole.UserRole)
             for i in range(panel.gallery_model.rowCount())]
    assert 7 in shown


def test_a_thousand_class_matrix_is_one_image(panel):
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 5, (1000, 1000))
    panel.matrix.set_matrix(matrix, [str(i) for i in range(1000)])
    assert panel.matrix.image.width() == 1000
    assert panel.matrix.describe(999, 0).startswith(f"true 999, predicted 0: {matrix[999, 0]}")


def test_an_unusable_run_is_said_in_the_panel(panel, qtbot, digits_run):
    panel.runs.addItem("missing", str(digits_run[1].parent / "nosuch"))
    panel.runs.setCurrentIndex(panel.runs.count() - 1)
    with qtbot.waitSignal(panel.failedWith, timeout=30_000):
        panel.go.click()
    assert "Cannot evaluate" in panel.summary.text() and "nosuch" in panel.summary.text()


def test_the_window_offers_both_panels_and_makes_them_when_asked(make_window):
    window = make_window(plugins=True)
    actions = {a.text(): a for a in window.menu("&Train").actions()}
    assert window.evaluation_panel is None and window.tryit_panel is None  # nothing made at start
    actions["Evaluate a run..."].trigger()
    actions["Try it..."].trigger()
    assert window.evaluation_panel.dock.isVisible() and window.tryit_panel.dock.isVisible()
