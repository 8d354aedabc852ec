from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest

from studio.core.project import load


@pytest.fixture
def panel(make_window, digits_run, qtbot):
    from studio.ui import tryit_panel

    torch.set_num_threads(1)
    window = make_window(load(digits_run[0]))
    panel = tryit_panel.show_panel(window)
    with qtbot.waitSignal(panel.ready, timeout=60_000):
        panel.load_run()
    return panel


def _known_digit(panel):
    """A digit of the built-in set that the run classifies right, and its class."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images[:50], dtype=torch.float32).unsqueeze(1) / 16.0
    with torch.no_grad():
        i = int(np.flatnonzero(panel.predictor.model(x).argmax(-1).numpy() == d.target[:50])[0])
    return d.images[i] / 16.0, str(d.target[i])


def test_the_pad_is_the_inputs_size_and_each_stroke_predicts(panel, qtbot):
    assert panel.pad.cells.shape == (8, 8) and panel.pad.isVisibleTo(panel)
    with qtbot.waitSignal(panel.predicted, timeout=5_000) as got:
        QTest.mousePress(panel.pad, Qt.MouseButton.LeftButton, pos=QPoint(100, 30))
    assert len(got.args[0][0]["top"]) == 5
    with qtbot.waitSignal(panel.predicted, timeout=5_000):
        QTest.mouseMove(panel.pad, QPoint(100, 190))
    QTest.mouseRelease(panel.pad, Qt.MouseButton.LeftButton, pos=QPoint(100, 190))
    assert panel.pad.cells[:, 3].max() > 0.9  # the stroke inked the middle column
    assert len(panel.bars.items) == 5 and abs(sum(p for _, p in panel.bars.items) - 1) < 0.2


def test_a_drawn_digit_is_recognised(panel):
    image, label = _known_digit(panel)
    panel.pad.cells[:] = image
    panel.predict_pad()
    assert panel.bars.items[0][0] == label and panel.answer.text().startswith(label)


def test_a_dropped_image_goes_through_the_training_preparation(panel, tmp_path):
    from PIL import Image

    image, label = _known_digit(panel)
    path = tmp_path / "digit.png"
    Image.fromarray((image * 255).round().astype(np.uint8)).resize((32, 32), Image.Resampling.NEAREST).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(event)
    assert "resized from 32x32 to 8x8" in panel.answer.text()
    (tmp_path / "bad.png").write_bytes(b"nope")
    panel.predict_inputs([str(tmp_path / "bad.png")])
    assert str(tmp_path / "bad.png") in panel.answer.text()
