"""File handling of the main window: New from a template, Open, Save, Save As, Recent
files, dropped files, asking before unsaved changes are lost, autosave and recovery.

The questions a person answers are methods (``ask_*``, ``choose_template``) so tests
can answer them; ``show_error`` opens a real message box.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtSvgWidgets import QSvgWidget
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QMessageBox, QVBoxLayout)

from studio.core.errors import StudioError
from studio.core.project import Project, from_dict, load
from studio.resources import template_names, template_path
from studio.ui import userdata

AUTOSAVE_MS = 30_000
FILTER = "Layer Studio projects (*.json);;All files (*)"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class TemplateChooser(QDialog):
    """The templates by title, and for the one selected its whole description and a
    drawing of its graph (the same SVG a notebook shows), so a person sees what each is."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.list = QListWidget()
        self._docs: dict[str, tuple[str, str]] = {"": ("Empty project", "A blank canvas.")}
        blank = QListWidgetItem("Empty project")
        blank.setData(256, "")
        self.list.addItem(blank)
        for name in template_names():
            try:
                doc = json.loads(template_path(name).read_text(encoding="utf-8"))
                title, desc = doc.get("name", name), doc.get("description", "")
            except (OSError, ValueError):
                title, desc = name, ""
            self._docs[name] = (title, desc)
            item = QListWidgetItem(title)
            item.setToolTip(desc)
            item.setData(256, name)
            self.list.addItem(item)
        self.preview = QSvgWidget()
        self.preview.setObjectName("template_preview")
        self.preview.setMinimumSize(420, 260)
        self.title = QLabel()
        self.title.setObjectName("template_title")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.description = QLabel()
        self.description.setObjectName("template_description")
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.list.currentItemChanged.connect(lambda _new, _old: self._show(self.chosen()))
        self.list.setCurrentRow(1 if self.list.count() > 1 else 0)
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        right = QVBoxLayout()
        right.addWidget(self.title)
        right.addWidget(self.preview, 1)
        right.addWidget(self.description)
        body = QHBoxLayout()
        self.list.setMaximumWidth(260)
        body.addWidget(self.list)
        body.addLayout(right, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Start from a template:"))
        lay.addLayout(body, 1)
        lay.addWidget(buttons)
        self.resize(900, 560)

    def _show(self, name: str) -> None:
        title, desc = self._docs.get(name, (name, ""))
        self.title.setText(title)
        self.description.setText(desc)
        self.preview.load(QByteArray(self.preview_svg(name).encode("utf-8")))
        self.preview.renderer().setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)  # load() resets it

    def preview_svg(self, name: str) -> str:
        from studio.core.graph import Graph
        from studio.export.svg import graph_svg

        from studio.ui.canvas.items import Theme

        try:
            graph = load(template_path(name)).graph if name else Graph()
        except StudioError:
            graph = Graph()
        background = self.palette().color(self.palette().ColorRole.Base).name()
        return graph_svg(graph, background=background, text=Theme.text.name(), body=Theme.body.name())

    def chosen(self) -> str:
        item = self.list.currentItem()
        return item.data(256) if item else ""


class FileActions:
    """Mixed into MainWindow; expects ``document``, ``statusBar()`` and ``refresh_recent_menu``."""

    def _init_files(self) -> None:
        self.session_id = uuid.uuid4().hex[:12]
        self._autosaved_index = None
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # ---- questions (tests replace these) ------------------------------------------
    def ask_save_changes(self) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"Save the changes to “{self.document.project.name}” before closing it?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(answer), "cancel")

    def ask_open_path(self) -> str:
        return QFileDialog.getOpenFileName(self, "Open project", self._last_dir(), FILTER)[0]

    def ask_save_path(self) -> str:
        default = str(Path(self._last_dir()) / f"{_slug(self.document.project.name)}.json")
        path = QFileDialog.getSaveFileName(self, "Save project as", default, FILTER)[0]
        if path and not Path(path).suffix:
            path += ".json"
        return path

    def choose_template(self) -> str | None:
        """A template name, '' for an empty project, or None when cancelled."""
        dialog = TemplateChooser(self)
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def ask_recover(self, entries: list[dict]) -> bool:
        newest = entries[0]
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(newest.get("saved_at", 0)))
        what = newest.get("path") or newest.get("project", {}).get("name", "an unsaved project")
        answer = QMessageBox.question(
            self, "Recover unsaved work?",
            f"Layer Studio did not close normally. Recover the changes to {what}, autosaved at {when}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def show_error(self, title: str, text: str) -> None:
        self.last_error = text
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("error_dialog")
        box.exec()

    # ---- actions ---------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project."""
        if not self.document.modified:
            return True
        answer = self.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def replace_document(self, replace: Callable[[], object], ask: bool = True) -> bool:
        """The one way in for every action that replaces the document (New, Open, a recent
        file, a dropped file, Import ONNX) or builds on the saved file (Start from weights):
        unsaved changes are asked about first, and Cancel leaves everything as it was.
        ``replace`` does the rest (its own dialogs included); its truth is the result."""
        if ask and not self.maybe_save():
            return False
        return bool(replace())

    def new_project(self) -> bool:
        return self.replace_document(self._new_from_template)

    def _new_from_template(self) -> bool:
        name = self.choose_template()
        if name is None:
            return False
        if name:
            try:
                project = load(template_path(name), self.document.graph.registry)
            except StudioError as exc:
                self.show_error("Cannot open template", str(exc))
                return False
            project.path = None  # a template is a starting point, never overwritten
        else:
            from studio.core.graph import Graph
            project = Project(Graph(self.document.graph.registry))
        self.document.set_project(project)
        self.view.fit_all()
        return True

    def open_dialog(self) -> bool:
        def choose_and_open() -> bool:
            path = self.ask_open_path()
            return bool(path) and self.open_path(path, ask=False)
        return self.replace_document(choose_and_open)

    def open_path(self, path: str | Path, ask: bool = True, remember: bool = True) -> bool:
        """Open a file; an unreadable one gives a dialog and the current project stays."""
        return self.replace_document(lambda: self._open_path(path, remember), ask)

    def _open_path(self, path: str | Path, remember: bool) -> bool:
        try:
            self.document.open(path)
        except StudioError as exc:
            self.show_error("Cannot open project", str(exc))
            return False
        except Exception as exc:  # a file must never take the app down
            self.show_error("Cannot open project", f"{path}: {exc}")
            return False
        if remember:
            userdata.add_recent(path)
            self.refresh_recent_menu()
        self.view.fit_all()
        self.statusBar().showMessage(f"Opened {path}", 4000)
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        path = self.ask_save_path()
        return bool(path) and self._save_to(path)

    def _save_to(self, path) -> bool:
        try:
            target = self.document.save(path)
        except (OSError, StudioError) as exc:
            self.show_error("Cannot save project", f"{path}: {getattr(exc, 'strerror', None) or exc}")
            return False
        userdata.add_recent(target)
        self.refresh_recent_menu()
        self.remove_autosave()
        self.statusBar().showMessage(f"Saved {target}", 4000)
        return True

    def _last_dir(self) -> str:
        if self.document.path is not None:
            return str(Path(self.document.path).parent)
        recent = userdata.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # ---- autosave and recovery ---------------------------------------------------------
    def autosave_path(self) -> Path:
        return userdata.autosave_dir() / f"{self.session_id}.json"

    def autosave(self) -> None:
        if not self.document.modified:
            self.remove_autosave()
            return
        index = self.document.undo_stack.index()
        if index == self._autosaved_index and self.autosave_path().exists():
            return
        from studio.core.atomic import atomic_write_text
        entry = {"pid": os.getpid(), "saved_at": time.time(),
                 "path": str(self.document.path) if self.document.path else None,
                 "project": self.document.project.to_dict()}
        try:
            atomic_write_text(self.autosave_path(), json.dumps(entry))
            self._autosaved_index = index
        except OSError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 6000)

    def remove_autosave(self) -> None:
        try:
            self.autosave_path().unlink()
        except OSError:
            pass
        self._autosaved_index = None

    @staticmethod
    def stale_autosaves() -> list[tuple[Path, dict]]:
        """Autosaves left by sessions that are no longer running, newest first."""
        found = []
        for path in userdata.autosave_dir().glob("*.json"):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(entry, dict) or _pid_alive(int(entry.get("pid", 0))):
                    continue
            except (OSError, ValueError, TypeError):
                continue
            found.append((path, entry))
        found.sort(key=lambda pe: pe[1].get("saved_at", 0), reverse=True)
        return found

    def offer_recovery(self) -> bool:
        stale = self.stale_autosaves()
        if not stale:
            return False
        recovered = False
        if self.ask_recover([e for _p, e in stale]):
            entry = stale[0][1]
            try:
                project = from_dict(entry.get("project"), "autosave", self.document.graph.registry)
                project.path = Path(entry["path"]) if entry.get("path") else None
                self.document.set_project(project)
                self.document.undo_stack.resetClean()  # recovered work is unsaved work
                self.view.fit_all()
                recovered = True
            except StudioError as exc:
                self.show_error("Cannot recover", str(exc))
        for path, _e in stale:
            try:
                path.unlink()
            except OSError:
                pass
        return recovered


def _slug(name: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return out or "project"
