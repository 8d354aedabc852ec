"""Start the editor: QApplication, theme, the main window on a file or the example."""

from __future__ import annotations

import json
import sys

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from studio.resources import DEFAULT_EXAMPLE, resource, template_path
from studio.ui.canvas.items import Theme

THEMES = ("dark", "light")
current_theme = {"canvas": "#1e2024", "grid": "#272a2f"}

# Fusion draws a check box's outline a shade darker than the window, which vanishes on a
# dark one: the theme gives indicators their own border, and a tick for the checked state.
INDICATOR_CSS = """
QCheckBox::indicator, QAbstractItemView::indicator, QGroupBox::indicator {{
    width: 13px; height: 13px; border: 1px solid {border}; border-radius: 2px; background: {background};
}}
QCheckBox::indicator:checked, QAbstractItemView::indicator:checked, QGroupBox::indicator:checked {{
    background: {checked}; border-color: {checked}; image: url("{tick}");
}}
QCheckBox::indicator:disabled, QAbstractItemView::indicator:disabled {{ border-color: {disabled}; }}
"""


def apply_theme(app: QApplication, name: str) -> None:
    """Palette (with a disabled group, so a greyed-out button looks greyed out), check
    box indicators, and the canvas colours. Plots follow the palette change themselves."""
    if name not in THEMES:
        name = "dark"
    data = json.loads(resource("themes", f"{name}.json").read_text(encoding="utf-8"))
    app.setStyle("Fusion")
    pal = QPalette()
    for role, colour in data["palette"].items():
        pal.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    for role, colour in data.get("disabled", {}).items():
        pal.setColor(QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, role), QColor(colour))
    app.setPalette(pal)
    ind = data.get("indicator")
    if ind:
        tick = resource("icons", "check.svg").as_posix()
        disabled = data.get("disabled", {}).get("Text", ind["border"])
        app.setStyleSheet(INDICATOR_CSS.format(tick=tick, disabled=disabled, **ind))
    Theme.set_dark(bool(data["dark"]))
    current_theme.update(canvas=data["canvas"], grid=data["grid"], name=name, **{
        f"plot_{k}": v for k, v in data.get("plot", {}).items()})


def _clear_clipboard() -> None:
    QApplication.clipboard().clear()


def run_app(argv: list[str] | None = None) -> int:
    """``studio [PROJECT]``: open the window on PROJECT, or on the built-in example."""
    argv = list(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "studio"])
    app.setApplicationName("Layer Studio")
    app.setOrganizationName("Layer Studio")
    app.setWindowIcon(QIcon(str(resource("icons", "app.svg"))))
    from studio.ui import userdata
    apply_theme(app, userdata.get_pref("theme", "dark"))
    from studio.ui.main_window import MainWindow

    window = MainWindow()
    screen = app.primaryScreen()
    if screen is not None:
        area = screen.availableGeometry()
        window.resize(min(1920, area.width()), min(1200, area.height()))
    window.show()
    app.processEvents()  # dock sizes apply only once the window has its real size
    window.size_panels()
    if argv:
        window.open_path(argv[0], ask=False)
    else:
        window.open_path(template_path(DEFAULT_EXAMPLE), ask=False, remember=False)
        window.document.project.path = None  # the example is never overwritten by Save
        window.update_title()
    if not window.offer_recovery():
        app.processEvents()
        window.view.fit_all()
    # Some Qt platforms crash at exit while the clipboard holds this process's data.
    app.aboutToQuit.connect(_clear_clipboard)
    return app.exec()
