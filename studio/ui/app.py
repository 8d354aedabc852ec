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


def apply_theme(app: QApplication, name: str) -> None:
    if name not in THEMES:
        name = "dark"
    data = json.loads(resource("themes", f"{name}.json").read_text(encoding="utf-8"))
    app.setStyle("Fusion")
    pal = QPalette()
    for role, colour in data["palette"].items():
        pal.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    app.setPalette(pal)
    Theme.set_dark(bool(data["dark"]))
    current_theme.update(canvas=data["canvas"], grid=data["grid"])


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
