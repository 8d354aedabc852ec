"""Evaluation costs, measured side by side (not timed tests):

1. evaluating 10,000 samples (confusion matrix, top-5, confidences, per-class table)
   against a bare forward pass over the same samples in the same batches (goal <= 1.5x);
2. redrawing a 1,000-class confusion matrix in the evaluation panel (goal <= 50 ms);
3. one try-it prediction per pad stroke on cnn_digits: the stroke inked and the model
   run on the drawing (goal <= 30 ms).

    .venv/bin/python benchmarks/evaluate.py [--repeats 7]

The machine may be shared: each figure is the median of interleaved repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from studio.compile.module import compile_graph  # noqa: E402
from studio.core.project import load  # noqa: E402
from studio.data.base import DatasetInfo, TensorData  # noqa: E402
from studio.evaluation.engine import BATCH, evaluate  # noqa: E402
from studio.evaluation.run import LoadedRun  # noqa: E402
from studio.resources import template_path  # noqa: E402
from studio.training.runs import RunFolder  # noqa: E402


def _median(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def evaluation_vs_forward(repeats: int) -> tuple[float, float]:
    project = load(template_path("cnn_digits"))
    model = compile_graph(project.graph).eval()
    n = 10_000
    gen = torch.Generator().manual_seed(0)
    data = TensorData({"x": torch.rand(n, 1, 8, 8, generator=gen), "y": torch.randint(0, 10, (n,), generator=gen)})
    info = DatasetInfo("digits", "classification", classes=[str(i) for i in range(10)],
                       inputs={"x": {"kind": "image", "channels": 1, "height": 8, "width": 8}})
    loaded = LoadedRun(RunFolder("bench"), model, {}, "best", {})

    def bare():
        with torch.inference_mode():
            for a in range(0, n, BATCH):
                model(data.fields["x"][a:a + BATCH])

    def full():
        evaluate(project, loaded, data=(data, info))

    bare(), full()  # warm up
    pairs = []
    for i in range(repeats):
        order = (bare, full) if i % 2 == 0 else (full, bare)
        got = {f: _median(f, 1) for f in order}
        pairs.append((got[bare], got[full]))
    b = statistics.median(p[0] for p in pairs)
    f = statistics.median(p[1] for p in pairs)
    return b, f


def matrix_redraw(repeats: int) -> float:
    from PySide6.QtWidgets import QApplication

    from studio.ui.evaluation_panel import ConfusionView

    app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive
    view = ConfusionView()
    matrix = np.random.default_rng(0).integers(0, 20, (1000, 1000))
    classes = [f"class {i}" for i in range(1000)]
    view.set_matrix(matrix, classes)
    return _median(lambda: (view.set_matrix(matrix, classes), view.repaint()), repeats)


def pad_stroke(repeats: int) -> float:
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from studio.evaluation.predict import Predictor
    from studio.ui.tryit_panel import DrawPad

    app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive
    project = load(template_path("cnn_digits"))
    model = compile_graph(project.graph).eval()
    info = DatasetInfo("digits", "classification", classes=[str(i) for i in range(10)],
                       inputs={"x": {"kind": "image", "channels": 1, "height": 8, "width": 8}})
    predictor = Predictor(LoadedRun(RunFolder("bench"), model, {}, "best", {}), info)
    pad = DrawPad(8, 8)
    pad.changed.connect(lambda: predictor.predict([torch.from_numpy(pad.cells.copy()).unsqueeze(0)], 5))
    state = {"y": 10.0}

    def stroke():
        state["y"] = 10.0 + (state["y"] + 7) % 200
        pad.stroke(QPointF(100, state["y"]), QPointF(110, state["y"] + 6))

    stroke()
    return _median(stroke, repeats * 10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    bare, full = evaluation_vs_forward(args.repeats)
    print(f"10,000 samples: bare forward {bare * 1000:.0f} ms, evaluation {full * 1000:.0f} ms "
          f"({full / bare:.2f}x; goal <= 1.5x)")
    print(f"1,000-class confusion matrix redraw: {matrix_redraw(args.repeats) * 1000:.1f} ms (goal <= 50 ms)")
    print(f"try-it on cnn_digits, one pad stroke inked and predicted: {pad_stroke(args.repeats) * 1000:.1f} ms "
          "(goal <= 30 ms)")


if __name__ == "__main__":
    main()
