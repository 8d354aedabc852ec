"""The main window: canvas in the middle, palette, inspector and problems around it,
menus with standard shortcuts, and a status bar with the graph's totals.

Other areas plug in through :meth:`MainWindow.add_panel` and :meth:`MainWindow.menu`:
after building itself the window calls ``install(window)`` of each optional module in
:data:`PLUGIN_MODULES` that exists; one that raises is reported and skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFrame, QLabel, QMainWindow, QMenu, QScrollArea,
                               QSpinBox)

from studio.core.errors import StudioError
from studio.core.project import Project
from studio.ui import userdata
from studio.ui.canvas.items import human
from studio.ui.canvas.scene import GraphScene
from studio.ui.canvas.view import GraphView
from studio.ui.clipboard import ClipboardActions
from studio.ui.document import Document
from studio.ui.files import FileActions
from studio.ui.icons import icon
from studio.ui.inspector import Inspector
from studio.ui.palette import Palette
from studio.ui.problems import ProblemsPanel
from studio.ui.search_popup import SearchPopup

PLUGIN_MODULES = ("studio.ui.training_panel", "studio.ui.data_panel", "studio.ui.export_dialog",
                  "studio.ui.model_import", "studio.ui.start_weights", "studio.ui.bench_panel",
                  "studio.ui.evaluation_panel", "studio.ui.tryit_panel")

_OPEN_WINDOWS: list = []  # windows made by New Window, kept alive until closed

AREAS = {"left": Qt.DockWidgetArea.LeftDockWidgetArea, "right": Qt.DockWidgetArea.RightDockWidgetArea,
         "bottom": Qt.DockWidgetArea.BottomDockWidgetArea, "top": Qt.DockWidgetArea.TopDockWidgetArea}


def _clamp(value: float, lo: int, hi: int) -> int:
    return int(max(lo, min(hi, value)))


def _unique(keys: list[QKeySequence]) -> list[QKeySequence]:
    seen: dict[str, QKeySequence] = {}
    for k in keys:
        seen.setdefault(k.toString(), k)
    return list(seen.values())


def _menu_actions(menu: QMenu) -> list[QAction]:
    """Every action of a menu and its submenus."""
    out = []
    for a in menu.actions():
        if a.menu() is not None:
            out += _menu_actions(a.menu())
        elif not a.isSeparator():
            out.append(a)
    return out


class MainWindow(FileActions, ClipboardActions, QMainWindow):
    def __init__(self, project: Project | None = None, plugins: bool = True) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.document = Document(project, self)
        self.scene = GraphScene(self.document, self)
        self.view = GraphView(self.scene, self)
        self.setCentralWidget(self.view)
        self.setAcceptDrops(True)
        # Side panels run the full height; bottom panels sit under the canvas only.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self._menus: dict[str, QMenu] = {}
        self.actions_by_name: dict[str, QAction] = {}
        self.plugin_errors: list[str] = []
        self.last_error = ""

        self.palette_panel = Palette(self.document.graph.registry)
        self.inspector = Inspector(self.document)
        self.problems = ProblemsPanel(self.document)
        self.add_panel(self.palette_panel, "Layers", "left")
        self.add_panel(self.inspector, "Inspector", "right")
        self.add_panel(self.problems, "Problems", "bottom")
        self.search_popup = SearchPopup(self.document.graph.registry, self)

        self._build_status_bar()
        self._build_menus()
        self._init_files()
        self._connect()
        self.update_title()
        self.update_status()
        self.resize(1440, 900)
        if plugins:
            self.install_plugins()
        self.settle_shortcuts()
        self.size_panels()

    # ---- contract 1 --------------------------------------------------------------
    def add_panel(self, widget, title: str, area: str | Qt.DockWidgetArea = "right") -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title}")
        # In a scroll area a panel asks for little room: at 200 % scale or on a small
        # screen the window still fits and the canvas keeps most of it; the panel scrolls.
        scroll = QScrollArea()
        scroll.setObjectName(f"scroll_{title}")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        dock.setWidget(scroll)
        where = AREAS.get(area, Qt.DockWidgetArea.RightDockWidgetArea) if isinstance(area, str) else area
        existing = [d for d in self.findChildren(QDockWidget) if d is not dock and self.dockWidgetArea(d) == where
                    and not d.isFloating()]
        self.addDockWidget(where, dock)
        if existing and where != Qt.DockWidgetArea.LeftDockWidgetArea:
            # Tabs, not a stack: the canvas keeps its room however many panels plug in.
            self.tabifyDockWidget(existing[0], dock)
            existing[0].raise_()
        if "&View" in self._menus:
            self._menus["&View"].addAction(dock.toggleViewAction())
        return dock

    def menu(self, title: str) -> QMenu:
        key = title if "&" in title else "&" + title
        plain = key.replace("&", "")
        for k, m in self._menus.items():
            if k.replace("&", "") == plain:
                return m
        m = self.menuBar().addMenu(key)
        help_menu = self._menus.get("&Help")
        if help_menu is not None:  # keep Help last, where people look for it
            self.menuBar().removeAction(help_menu.menuAction())
            self.menuBar().addAction(help_menu.menuAction())
        self._menus[key] = m
        return m

    def install_plugins(self) -> None:
        for name in PLUGIN_MODULES:
            try:
                if name not in sys.modules and importlib.util.find_spec(name) is None:
                    continue
                module = importlib.import_module(name)
                module.install(self)
            except Exception as exc:
                traceback.print_exc()
                msg = f"{name.rsplit('.', 1)[-1]} was skipped: {exc}"
                self.plugin_errors.append(msg)
        from studio.plugins import last_report
        self.plugin_errors += [str(f) for f in last_report().failed]
        if self.plugin_errors:
            self.statusBar().showMessage("; ".join(self.plugin_errors), 15000)

    def size_panels(self) -> None:
        """Side and bottom panels as shares of the window, so the canvas keeps most of it
        at any size and scale."""
        docks = {self.dockWidgetArea(d): d for d in self.findChildren(QDockWidget) if not d.isFloating()}
        w, h = max(self.width(), 1), max(self.height(), 1)
        sizes = {Qt.DockWidgetArea.LeftDockWidgetArea: _clamp(0.14 * w, 140, 250),
                 Qt.DockWidgetArea.RightDockWidgetArea: _clamp(0.18 * w, 160, 310)}
        side = [(docks[a], size) for a, size in sizes.items() if a in docks]
        if side:
            self.resizeDocks([d for d, _ in side], [s for _, s in side], Qt.Orientation.Horizontal)
        if Qt.DockWidgetArea.BottomDockWidgetArea in docks:
            self.resizeDocks([docks[Qt.DockWidgetArea.BottomDockWidgetArea]], [_clamp(0.16 * h, 80, 200)],
                             Qt.Orientation.Vertical)

    # ---- building -------------------------------------------------------------------
    def _action(self, name: str, text: str, slot, shortcut=None, icon_name: str | None = None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcuts(QKeySequence.keyBindings(shortcut) if isinstance(shortcut, QKeySequence.StandardKey)
                           else [QKeySequence(shortcut)])
        if icon_name:
            a.setIcon(icon(icon_name))
        a.triggered.connect(lambda _checked=False: self._run(slot))
        self.actions_by_name[name] = a
        return a

    def _run(self, slot) -> None:
        try:
            slot()
        except StudioError as exc:
            self.statusBar().showMessage(str(exc), 8000)
        except Exception as exc:  # a menu action must never take the app down
            traceback.print_exc()
            self.show_error("Unexpected error", f"{type(exc).__name__}: {exc}")

    def _build_menus(self) -> None:
        S = QKeySequence.StandardKey
        f = self.menu("&File")
        f.addAction(self._action("new", "&New…", self.new_project, S.New, "new"))
        f.addAction(self._action("new_window", "New &Window", self.new_window, "Ctrl+Shift+N"))
        f.addAction(self._action("open", "&Open…", self.open_dialog, S.Open, "open"))
        self.recent_menu = f.addMenu("Open &Recent")
        f.addAction(self._action("save", "&Save", self.save, S.Save, "save"))
        f.addAction(self._action("save_as", "Save &As…", self.save_as, S.SaveAs))
        f.addSeparator()
        f.addAction(self._action("quit", "&Quit", self.close, S.Quit))
        if not self.actions_by_name["quit"].shortcuts():  # some platforms bind none
            self.actions_by_name["quit"].setShortcut(QKeySequence("Ctrl+Q"))
        self.refresh_recent_menu()

        e = self.menu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts(QKeySequence.keyBindings(S.Undo))
        undo.setIcon(icon("undo"))
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        # Ctrl+Y is redo in most editors and on Windows; Ctrl+Shift+Z everywhere else.
        redo.setShortcuts(_unique(QKeySequence.keyBindings(S.Redo) + [QKeySequence("Ctrl+Y"),
                                                                       QKeySequence("Ctrl+Shift+Z")]))
        redo.setIcon(icon("redo"))
        self.actions_by_name["undo"], self.actions_by_name["redo"] = undo, redo
        e.addAction(undo)
        e.addAction(redo)
        e.addSeparator()
        e.addAction(self._action("cut", "Cu&t", self.cut, S.Cut, "cut"))
        e.addAction(self._action("copy", "&Copy", self.copy, S.Copy, "copy"))
        e.addAction(self._action("paste", "&Paste", self.paste, S.Paste, "paste"))
        e.addAction(self._action("duplicate", "D&uplicate", self.duplicate, "Ctrl+D"))
        e.addAction(self._action("delete", "&Delete", self.delete_selection, S.Delete, "delete"))
        self.actions_by_name["delete"].setShortcuts(QKeySequence.keyBindings(S.Delete) + [QKeySequence("Backspace")])
        e.addAction(self._action("select_all", "Select &All", self.select_all, S.SelectAll))
        e.addAction(self._action("freeze", "&Freeze / unfreeze", self.toggle_frozen, "Ctrl+F"))
        e.addSeparator()
        e.addAction(self._action("layout_lr", "Auto-&layout, left to right", lambda: self.auto_layout("lr"),
                                 "Ctrl+L", "layout"))
        e.addAction(self._action("layout_tb", "Auto-layout, &top to bottom", lambda: self.auto_layout("tb"),
                                 "Ctrl+Shift+L"))

        v = self.menu("&View")
        v.addAction(self._action("fit", "&Fit to view", self.view.fit_all, "Ctrl+0", "fit"))
        v.addAction(self._action("zoom_in", "Zoom &in", lambda: self.view.zoom_by(1.25), S.ZoomIn, "zoom-in"))
        v.addAction(self._action("zoom_out", "Zoom &out", lambda: self.view.zoom_by(0.8), S.ZoomOut, "zoom-out"))
        v.addSeparator()
        themes = QActionGroup(self)
        for name in ("dark", "light"):
            a = self._action(f"theme_{name}", f"{name.title()} theme", lambda n=name: self.set_theme(n))
            a.setCheckable(True)
            a.setChecked(name == userdata.get_pref("theme", "dark"))
            themes.addAction(a)
            v.addAction(a)
        v.addSeparator()
        for dock in self.findChildren(QDockWidget):
            v.addAction(dock.toggleViewAction())

        h = self.menu("&Help")
        h.addAction(self._action("about", "&About Layer Studio", self.about))

        tb = self.addToolBar("Main")
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        for name in ("new", "open", "save", None, "undo", "redo", None, "layout_lr", "fit"):
            if name is None:
                tb.addSeparator()
            else:
                tb.addAction(self.actions_by_name[name])
        # The canvas takes the shortcuts that act on a selection, so typing in the
        # inspector (Delete, Ctrl+C in a text field) still edits the text.
        for name in ("cut", "copy", "paste", "duplicate", "delete", "select_all", "freeze"):
            act = self.actions_by_name[name]
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(act)

    def settle_shortcuts(self) -> None:
        """One key, one action. A platform's standard bindings add second keys to some
        actions (on X11 Delete also takes Ctrl+D), and a key bound to two actions in the
        same context fires neither ("Ambiguous shortcut overload"). The key an action
        shows in its menu (its first) wins; a second key that another action shows, or
        that an earlier action already kept, is dropped."""
        actions = [a for m in self._menus.values() for a in _menu_actions(m) if a.shortcuts()]
        shown = {a.shortcuts()[0].toString(): a for a in actions}
        taken = set(shown)
        for a in actions:
            keys = a.shortcuts()
            kept = keys[:1]
            for k in keys[1:]:
                name = k.toString()
                if name not in taken:
                    taken.add(name)
                    kept.append(k)
            if len(kept) != len(keys):
                a.setShortcuts(kept)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.params_label = QLabel()
        self.flops_label = QLabel()
        self.memory_label = QLabel()
        self.ready_label = QLabel()
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 1_000_000)
        self.batch_spin.setPrefix("batch ")
        self.batch_spin.setToolTip("Batch size for the memory estimate")
        self.batch_spin.setValue(int(self.document.project.training.get("batch_size", 64)))
        self.batch_spin.valueChanged.connect(lambda _v: self.update_status())
        for w in (self.params_label, self.flops_label, self.batch_spin, self.memory_label, self.ready_label):
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        d = self.document
        d.graphChanged.connect(self.update_status)
        d.modifiedChanged.connect(lambda _m: self.update_title())
        d.pathChanged.connect(lambda _p: self.update_title())
        d.projectReplaced.connect(self._project_replaced)
        self.scene.selectionIdsChanged.connect(self.inspector.set_selection)
        self.inspector.selectRequested.connect(self.scene.select_nodes)
        self.inspector.statusMessage.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.view.statusMessage.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.view.filesDropped.connect(self._files_dropped)
        self.view.searchRequested.connect(self._search_at)
        self.problems.nodeActivated.connect(self.focus_node)
        self.palette_panel.layerActivated.connect(self.add_layer_at_center)
        self.search_popup.layerChosen.connect(self._add_from_search)

    # ---- reactions ------------------------------------------------------------------
    def _project_replaced(self, project) -> None:
        self.batch_spin.setValue(int(project.training.get("batch_size", 64)))
        self.update_title()

    def update_title(self) -> None:
        d = self.document
        where = f" — {Path(d.path).name}" if d.path else ""
        self.setWindowTitle(f"{d.project.name}{where}[*] — Layer Studio")
        self.setWindowModified(d.modified)

    def update_status(self) -> None:
        a = self.document.analysis()
        self.params_label.setText(f"Params: {a.total_params:,}")
        self.flops_label.setText(f"FLOPs/sample: {human(a.total_flops)}")
        mem = a.memory_bytes(self.batch_spin.value())
        self.memory_label.setText(f"≈ {mem / 2**20:,.1f} MiB to train")
        n_err = len(a.errors)
        if a.ready:
            text, colour = "Ready to train", "#3cb371"
        elif not n_err:  # outputs but no loss: a model for inference
            text, colour = "Ready for inference", "#3cb371"
        else:
            text, colour = f"Not ready: {n_err} error{'s' * (n_err != 1)}", "#e0403a"
        self.ready_label.setText(text)
        self.ready_label.setToolTip("It runs and exports; add a loss to train it (see Problems)"
                                    if a.inference_ready and not a.ready and not n_err else "")
        self.ready_label.setStyleSheet(f"color: {colour}; font-weight: bold")

    def refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = userdata.recent_files()
        for path in files:
            a = self.recent_menu.addAction(path)
            a.triggered.connect(lambda _c=False, p=path: self._run(lambda: self.open_path(p)))
        self.recent_menu.setEnabled(bool(files))

    def focus_node(self, node_id: str) -> None:
        if node_id in self.scene.nodes:
            self.scene.select_nodes([node_id])
            self.view.centerOn(self.scene.nodes[node_id])

    def add_layer_at_center(self, type_id: str) -> None:
        self._add_layer(type_id, self.view.center_scene_pos())

    def _add_layer(self, type_id: str, pos: QPointF) -> None:
        try:
            node_id = self.document.add_node(type_id, (pos.x() - 90, pos.y() - 30))
        except StudioError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        self.scene.select_nodes([node_id])

    def _search_at(self, scene_pos: QPointF) -> None:
        self._search_pos = scene_pos
        self.search_popup.popup_at(self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos)))

    def _add_from_search(self, type_id: str) -> None:
        self._add_layer(type_id, getattr(self, "_search_pos", self.view.center_scene_pos()))
        self.view.setFocus()

    def _files_dropped(self, paths: list[str]) -> None:
        for p in paths[:1]:
            self.open_path(p)

    def view_aspect(self) -> float:
        """The canvas's width/height, so a folded layout fills the screen it is shown on."""
        vp = self.view.viewport().rect()
        return max(0.5, min(3.0, vp.width() / max(1, vp.height())))

    def new_window(self) -> "MainWindow":
        """Another window in this process (copy and paste work between them)."""
        other = MainWindow(plugins=True)
        other.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _OPEN_WINDOWS.append(other)
        other.destroyed.connect(lambda _o=None, w=other: _OPEN_WINDOWS.remove(w) if w in _OPEN_WINDOWS else None)
        other.resize(self.size())
        other.show()
        other.size_panels()
        return other

    def toggle_frozen(self) -> None:
        """Freeze the selection, or unfreeze it when all of it is frozen already."""
        ids = self.scene.selected_ids()
        if ids:
            g = self.document.graph
            self.document.set_training(ids, frozen=not all(g.node(i).frozen for i in ids))

    def auto_layout(self, direction: str) -> None:
        self.document.auto_layout(direction, aspect=self.view_aspect())
        self.view.fit_all()

    def set_theme(self, name: str) -> None:
        from studio.ui.app import apply_theme
        apply_theme(QApplication.instance(), name)
        userdata.set_pref("theme", name)
        for item in self.scene.items():
            item.update()
        self.view.resetCachedContent()
        self.view.viewport().update()

    def about(self) -> None:
        from studio import __version__
        from PySide6.QtWidgets import QMessageBox
        QMessageBox.about(self, "About Layer Studio",
                          f"Layer Studio {__version__}<br>Design, train and export PyTorch networks as graphs.")

    # ---- window events ----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        try:
            paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
            event.acceptProposedAction()
            self._files_dropped(paths)
        except Exception:
            traceback.print_exc()

    def closeEvent(self, event) -> None:
        try:
            ok = self.maybe_save()
        except Exception:
            traceback.print_exc()
            ok = True
        if not ok:
            event.ignore()
            return
        self.autosave_timer.stop()
        self.remove_autosave()
        event.accept()
