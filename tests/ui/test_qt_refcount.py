"""PySide6 6.12.0 drops a reference to None on every void Qt call under Python 3.10/3.11
and the process aborts after a few thousand calls; this watches for that."""

import sys


def test_void_qt_calls_keep_none_alive(qtbot):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(10_000):
        label.setText("x" if i % 2 else "y")
    after = sys.getrefcount(None)
    assert after >= before - 50, f"None lost {before - after} references over 10,000 setText calls"
