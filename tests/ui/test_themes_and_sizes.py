"""Readable at any size and in both themes: the window fits a small (or 200 %-scaled)
screen with the canvas keeping most of it; disabled controls look disabled; check boxes
show when unticked; plots follow the theme and their legend covers no curve."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from studio.ui.app import apply_theme


@pytest.fixture
def app_theme():
    app = QApplication.instance()
    yield lambda name: apply_theme(app, name)
    apply_theme(app, "dark")


@pytest.mark.parametrize("size, share", [((800, 500), 0.35), ((1600, 1000), 0.45)])  # at 200 % and 100 %
def test_the_window_fits_the_screen_and_the_canvas_keeps_most_of_it(make_window, qtbot, size, share):
    window = make_window(plugins=True)
    hint = window.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1], hint
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() == size[0] and window.height() == size[1])
    window.size_panels()
    QApplication.processEvents()
    canvas = window.view.width() * window.view.height()
    assert canvas >= share * size[0] * size[1], (window.view.size(), size)
    assert window.statusBar().geometry().bottom() <= window.height()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_disabled_buttons_look_disabled_and_unticked_boxes_show(app_theme, theme):
    app_theme(theme)
    pal = QApplication.instance().palette()
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        active = pal.color(QPalette.ColorGroup.Active, role)
        disabled = pal.color(QPalette.ColorGroup.Disabled, role)
        assert abs(active.lightness() - disabled.lightness()) >= 60, (role, active.name(), disabled.name())
    css = QApplication.instance().styleSheet()
    assert "::indicator" in css and "border: 1px solid" in css
    import json

    from studio.resources import resource

    border = json.loads(resource("themes", f"{theme}.json").read_text())["indicator"]["border"]
    base = pal.color(QPalette.ColorRole.Base)
    from PySide6.QtGui import QColor

    assert abs(QColor(border).lightness() - base.lightness()) >= 80  # the box's edge stands out


def test_plots_follow_the_theme_and_the_legend_stays_off_the_curves(app_theme, qtbot):
    from studio.ui.training_plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(900, 300)
    plots.show()
    app_theme("light")
    QApplication.processEvents()
    assert plots.backgroundBrush().color().lightness() > 200
    app_theme("dark")
    QApplication.processEvents()
    assert plots.backgroundBrush().color().lightness() < 60
    legend = plots.legend.sceneBoundingRect()
    assert legend.height() > 0
    assert not legend.intersects(plots.loss_plot.vb.sceneBoundingRect())
