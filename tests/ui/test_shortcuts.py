"""Every shortcut a menu shows works from the canvas: one key, one action."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from studio.ui.main_window import _menu_actions


def _shown_shortcuts(window):
    out = {}
    for menu in window._menus.values():
        for action in _menu_actions(menu):
            keys = action.shortcuts()
            if keys:
                out[action] = keys
    return out


def test_every_shortcut_shown_in_a_menu_fires_its_action_from_the_canvas(make_window, qtbot):
    window = make_window(plugins=True)
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    actions = _shown_shortcuts(window)
    assert len(actions) >= 15
    fired: dict = {}
    for action in actions:
        action.triggered.disconnect()  # count, instead of opening dialogs or quitting
        action.setEnabled(True)  # undo and redo are greyed out with nothing to undo
        action.triggered.connect(lambda _c=False, a=action: fired.__setitem__(a, fired.get(a, 0) + 1))
    for action, keys in actions.items():
        for key in keys:
            if key.toString() in ("Undo", "Redo", "Cut", "Copy", "Paste", "New", "Open", "Save", "Zoom In",
                                  "Zoom Out", "Shift+Save"):
                continue  # keys of special keyboards, not typed with modifiers
            fired.clear()
            QTest.keySequence(window.view, key)
            assert fired == {action: 1}, f"{key.toString()} should fire {action.text()!r}, fired {fired}"


def test_a_platform_binding_that_clashes_with_a_shown_shortcut_is_dropped(make_window):
    window = make_window(plugins=False)
    delete = window.actions_by_name["delete"]
    # What X11 platforms bind: Delete also on Ctrl+D, which Duplicate shows.
    delete.setShortcuts([QKeySequence("Del"), QKeySequence("Ctrl+D"), QKeySequence("Backspace")])
    window.settle_shortcuts()
    assert [k.toString() for k in delete.shortcuts()] == ["Del", "Backspace"]
    assert window.actions_by_name["duplicate"].shortcuts()[0].toString() == "Ctrl+D"


def test_redo_answers_ctrl_y_and_ctrl_shift_z(make_window):
    window = make_window(plugins=False)
    keys = {k.toString() for k in window.actions_by_name["redo"].shortcuts()}
    assert {"Ctrl+Y", "Ctrl+Shift+Z"} <= keys
    assert window.actions_by_name["quit"].shortcuts()
