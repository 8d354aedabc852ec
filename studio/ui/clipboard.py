"""Copy, cut, paste, duplicate, delete and select-all of the main window. The clipboard
holds a project-JSON fragment (and the same text), so paste works between windows."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from studio.core.errors import StudioError
from studio.ui.document import FRAGMENT_MIME


class ClipboardActions:
    """Mixed into MainWindow; expects ``document``, ``scene`` and ``statusBar()``."""

    _paste_count = 0
    _last_copied = ""

    def copy(self) -> bool:
        ids = self.scene.selected_ids()
        if not ids:
            return False
        text = self.document.fragment(ids)
        mime = QMimeData()
        mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
        mime.setText(text)
        QApplication.clipboard().setMimeData(mime)
        self._last_copied, self._paste_count = text, 0
        self.statusBar().showMessage(f"Copied {len(ids)} layer{'s' * (len(ids) != 1)}", 3000)
        return True

    def cut(self) -> None:
        ids = self.scene.selected_ids()
        if ids and self.copy():
            self.document.remove_nodes(ids)
            self.document.undo_stack.command(self.document.undo_stack.index() - 1).setText("Cut")

    def paste(self) -> list[str]:
        mime = QApplication.clipboard().mimeData()
        if mime is None:
            return []
        if mime.hasFormat(FRAGMENT_MIME):
            text = bytes(mime.data(FRAGMENT_MIME)).decode("utf-8")
        elif mime.hasText() and mime.text().lstrip().startswith("{"):
            text = mime.text()
        else:
            self.statusBar().showMessage("The clipboard holds no layers", 4000)
            return []
        # Each paste of the same layers lands a step further, so copies never hide each other.
        self._paste_count = self._paste_count + 1 if text == self._last_copied else 1
        self._last_copied = text
        step = 40.0 * self._paste_count
        try:
            ids = self.document.paste(text, (step, step))
        except StudioError as exc:
            self.statusBar().showMessage(f"Cannot paste: {exc}", 8000)
            return []
        self.scene.select_nodes(ids)
        return ids

    def duplicate(self) -> list[str]:
        ids = self.scene.selected_ids()
        if not ids:
            return []
        new = self.document.paste(self.document.fragment(ids), (40.0, 40.0), "Duplicate")
        self.scene.select_nodes(new)
        return new

    def delete_selection(self) -> None:
        self.document.delete(self.scene.selected_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        self.scene.select_nodes(list(self.scene.nodes))
