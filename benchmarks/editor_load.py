"""Editor load figures, measured side by side in one run.

1. Open a 1000-node project file, auto-layout it and paint the canvas once
   (target: <= 1 s in total).
2. Cold start of `studio` to the window shown, in a fresh process, with the panels of
   the other areas installed and without them (target: <= 1.5 s; torch must not be
   imported at start-up).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/editor_load.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_project(path: Path, n: int = 1000) -> None:
    """A deep CNN-like graph: a chain with a residual Add every few layers."""
    from studio.core.graph import Graph
    from studio.core.project import Project

    g = Graph()
    prev = g.add_node("Input", {"kind": "vector", "features": 32}, node_id="x").id
    skip = prev
    i = 1
    while len(g) < n - 2:
        a = g.add_node("Linear", {"out_features": 32}, node_id=f"fc{i}").id
        g.connect(prev, "out", a, "in")
        b = g.add_node("ReLU", node_id=f"act{i}").id
        g.connect(a, "out", b, "in")
        prev = b
        if i % 4 == 0:
            s = g.add_node("Add", node_id=f"add{i}").id
            g.connect(prev, "out", s, "in1")
            g.connect(skip, "out", s, "in2")
            prev = skip = s
        i += 1
    g.add_node("Output", node_id="y")
    g.connect(prev, "out", "y", "in")
    Project(g, name="1000 nodes").save(path)


def open_layout_paint(path: Path) -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.ui.app import apply_theme
    from studio.ui.main_window import MainWindow

    apply_theme(app, "dark")
    window = MainWindow(plugins=False)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    t0 = time.perf_counter()
    assert window.open_path(path, ask=False)
    t1 = time.perf_counter()
    window.auto_layout("lr")
    t2 = time.perf_counter()
    window.view.viewport().repaint()
    app.processEvents()
    t3 = time.perf_counter()
    nodes = len(window.scene.nodes)
    window.document.undo_stack.setClean()
    window.close()
    return {"nodes": nodes, "open": t1 - t0, "layout": t2 - t1, "paint": t3 - t2, "total": t3 - t0}


COLD = """
import sys, time
start = float(sys.argv[1])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
import studio.ui.main_window as mw
if sys.argv[2] == "editor":
    mw.PLUGIN_MODULES = ()
done = []
def tick():
    # Quit only works once the event loop runs, so keep asking after the first report.
    if not done:
        windows = [w for w in app.topLevelWidgets() if hasattr(w, "document") and w.isVisible()]
        if not windows or not len(windows[0].document.graph):
            return
        print(time.time() - start, 'torch' in sys.modules, flush=True)
        windows[0].document.undo_stack.setClean()
        done.append(1)
    app.quit()
timer = QTimer()
timer.timeout.connect(tick)
timer.start(5)
from studio.ui.app import run_app
run_app([])
"""


def cold_start(kind: str) -> tuple[float, bool]:
    env = dict(os.environ, STUDIO_USER_DIR=tempfile.mkdtemp())
    start = time.time()
    out = subprocess.run([sys.executable, "-c", COLD, repr(start), kind], capture_output=True, text=True,
                         env=env, timeout=120)
    if out.returncode != 0 and not out.stdout.strip():
        raise RuntimeError(out.stderr)
    seconds, torch_loaded = out.stdout.split()[-2:]
    return float(seconds), torch_loaded == "True"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json"
        make_project(path)
        r = open_layout_paint(path)
    print(f"1000-node graph ({r['nodes']} nodes): open {r['open']:.3f} s, auto-layout {r['layout']:.3f} s, "
          f"first paint {r['paint']:.3f} s, total {r['total']:.3f} s (target <= 1 s)")
    for kind, label in (("editor", "editor alone"), ("all", "with the installed panels")):
        runs = [cold_start(kind) for _ in range(3)]
        best = min(s for s, _ in runs)
        torch = any(t for _, t in runs)
        print(f"cold start to window shown, {label}: best {best:.2f} s of 3 "
              f"({', '.join(f'{s:.2f}' for s, _ in runs)}), torch imported at start-up: {torch} "
              "(target <= 1.5 s, no torch)")


if __name__ == "__main__":
    main()
