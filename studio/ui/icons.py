"""Icons by name from ``resources/icons/*.svg`` (scalable, so sharp on high-DPI screens)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from studio.resources import resource


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    return QIcon(str(resource("icons", f"{name}.svg")))
