"""The window opens without importing torch on the GUI thread (it costs over a second)."""

from __future__ import annotations

import subprocess
import sys

CODE = r"""
import builtins, sys, threading, traceback
seen = []
orig = builtins.__import__
def watch(name, *args, **kwargs):
    if (name == "torch" or name.startswith("torch.")) and "torch" not in sys.modules \
            and threading.current_thread() is threading.main_thread():
        seen.append("".join(traceback.format_stack(limit=12)))
    return orig(name, *args, **kwargs)
builtins.__import__ = watch
from PySide6.QtWidgets import QApplication
app = QApplication([])
from studio.ui.main_window import MainWindow
from studio.resources import template_path
window = MainWindow()
window.open_path(template_path("cnn_digits"), ask=False, remember=False)
window.show()
app.processEvents()
print("TORCH-ON-GUI-THREAD" if seen else "CLEAN")
print(seen[0] if seen else "")
window.document.undo_stack.setClean()
window.close()
"""


def test_window_with_all_panels_opens_without_torch_on_the_gui_thread():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("CLEAN"), proc.stdout
