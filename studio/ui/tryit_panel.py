"""The Try-it panel: a trained run answering what you draw, drop or type.

The pad is the Input's image size, scaled up on screen; every stroke is predicted again
(a forward pass of one sample, on the UI thread: a few milliseconds for small models).
Files go through the same preparation as the training data
(:class:`~studio.evaluation.predict.Predictor`, the importers' readers). Loading a run
runs on a worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from studio.ui.workers import create_worker

PAD_PIXELS = 224


class DrawPad(QWidget):
    """A grey canvas of ``height x width`` cells drawn with the mouse (ink 1, paper 0, as
    the digits set stores it); ``changed`` fires on every stroke segment."""

    changed = Signal()

    def __init__(self, height: int = 8, width: int = 8) -> None:
        super().__init__()
        self.setMouseTracking(False)
        self.resize_pad(height, width)

    def resize_pad(self, height: int, width: int) -> None:
        self.shape = (height, width)
        self._cells = None  # made when first drawn or read: numpy stays out of the window's start
        scale = max(1, PAD_PIXELS // max(height, width))
        self.scale = scale
        self.setFixedSize(width * scale, height * scale)
        self.last: QPointF | None = None
        self.update()

    @property
    def cells(self):
        """The drawing, ``[height, width]`` floats in [0, 1] (ink 1)."""
        if self._cells is None:
            import numpy as np

            self._cells = np.zeros(self.shape, dtype=np.float32)
        return self._cells

    def clear(self) -> None:
        self.cells[:] = 0
        self.update()
        self.changed.emit()

    def _ink(self, p: QPointF) -> None:
        """A soft brush about one cell across, like a pen on paper scanned small."""
        import numpy as np

        h, w = self.cells.shape
        cy, cx = p.y() / self.scale, p.x() / self.scale
        ys, xs = np.mgrid[0:h, 0:w]
        d2 = (ys + 0.5 - cy) ** 2 + (xs + 0.5 - cx) ** 2
        radius = max(0.7, max(h, w) / 10)
        np.maximum(self.cells, np.clip(1.3 - d2 / (radius * radius), 0, 1), out=self.cells)

    def stroke(self, a: QPointF, b: QPointF) -> None:
        steps = max(1, int((b - a).manhattanLength() / max(1, self.scale / 3)))
        for i in range(steps + 1):
            self._ink(a + (b - a) * (i / steps))
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.last = event.position()
        self.stroke(self.last, self.last)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.last is not None:
            p = event.position()
            self.stroke(self.last, p)
            self.last = p

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.last = None

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        import numpy as np

        h, w = self.cells.shape
        grey = np.ascontiguousarray((255 - self.cells * 255).astype(np.uint8))
        image = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8)
        painter = QPainter(self)
        painter.drawImage(self.rect(), image)
        painter.setPen(QPen(QColor("#999")))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()


class TopKBars(QWidget):
    """Horizontal bars: class name and probability, most likely on top."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, float]] = []
        self.setMinimumSize(200, 116)

    def set_items(self, items: list[tuple[str, float]]) -> None:
        self.items = items
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        row = 22
        for k, (name, p) in enumerate(self.items):
            y = 4 + k * row
            painter.fillRect(70, y, int((self.width() - 126) * p), row - 6, QColor("#1f5fa8" if k == 0 else "#8fb3dc"))
            painter.setPen(QColor(self.palette().color(self.foregroundRole())))
            painter.drawText(4, y + row - 9, name[:12])
            painter.drawText(self.width() - 56, y + row - 9, f"{p:.1%}")
        painter.end()


class TryItPanel(QWidget):
    predicted = Signal(list)  # the latest prediction dicts
    ready = Signal()

    def __init__(self, document) -> None:
        super().__init__()
        self.document = document
        self.predictor = None
        self._worker = None
        self.runs = QComboBox()
        load = QPushButton("Load")
        load.clicked.connect(self.load_run)
        top = QHBoxLayout()
        for w in (QLabel("Run"), self.runs, load):
            top.addWidget(w)
        self.runs.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.runs.setMinimumContentsLength(12)
        self.pad = DrawPad()
        self.pad.changed.connect(self.predict_pad)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.pad.clear)
        open_file = QPushButton("Open file...")
        open_file.clicked.connect(self._open)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Type text for a text model, then Enter")
        self.text.returnPressed.connect(lambda: self.predict_inputs([self.text.text()]))
        self.bars = TopKBars()
        self.answer = QLabel("Choose a run and press Load.")
        self.answer.setWordWrap(True)
        self.preview = QLabel()  # a dropped image, with the boxes a detector found
        self.preview.hide()
        # One column: the panel lives in a side dock, narrower than it is tall.
        buttons = QHBoxLayout()
        buttons.addWidget(clear)
        buttons.addWidget(open_file)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.pad)
        layout.addLayout(buttons)
        layout.addWidget(self.text)
        layout.addWidget(self.bars)
        layout.addWidget(self.answer)
        layout.addWidget(self.preview)
        layout.addStretch(1)
        self.setAcceptDrops(True)
        document.projectReplaced.connect(lambda _p: self.refresh_runs())
        self.refresh_runs()

    def refresh_runs(self) -> None:
        from studio.training.runs import list_runs, runs_dir_for

        self.runs.clear()
        for run in reversed(list_runs(runs_dir_for(self.document.project))):
            self.runs.addItem(f"{run.name} · {run.status}", str(run.path))

    def load_run(self) -> None:
        run = self.runs.currentData()
        if not run:
            self.answer.setText("No run to try: train the project first.")
            return
        self.answer.setText("Loading ...")
        self._worker = create_worker(_load_predictor, self.document.project, run,
                                     _connect={"returned": self.set_predictor, "errored": self._errored})

    def _errored(self, exc: BaseException) -> None:
        from studio.ui.evaluation_panel import error_text

        self.answer.setText(error_text(exc))

    def set_predictor(self, predictor) -> None:
        self.predictor = predictor
        spec = predictor.spec
        if predictor.kind == "image":
            self.pad.resize_pad(int(spec["height"]), int(spec["width"]))
        self.pad.setVisible(predictor.kind == "image" and int(spec.get("channels", 1)) == 1)
        self.text.setVisible(predictor.seq2seq)
        self.answer.setText(f"Ready: {predictor.describe()}. Draw, drop or open a file.")
        self.ready.emit()

    def predict_pad(self) -> None:
        if self.predictor is None or self.predictor.kind != "image":
            return
        import torch

        x = torch.from_numpy(self.pad.cells.copy()).unsqueeze(0)
        self.show(self.predictor.predict([x], 5))

    def predict_inputs(self, items: list[str]) -> None:
        if self.predictor is None:
            self.answer.setText("Load a run first.")
            return
        from studio.evaluation.predict import predict_inputs

        results, problems = predict_inputs(self.predictor, items, 5)
        if problems:
            self.answer.setText(problems[0])
            return
        self._preview(items[0], results[0] if results else {})
        self.show(results)

    def _preview(self, path: str, result: dict) -> None:
        from PySide6.QtGui import QPixmap

        from studio.ui.evaluation_panel import draw_boxes

        pix = QPixmap(path) if self.predictor.kind == "image" else QPixmap()
        if pix.isNull():
            self.preview.hide()
            return
        pix = pix.scaled(PAD_PIXELS, PAD_PIXELS, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)
        names = self.predictor.classes
        rows = [[b["score"], names.index(b["class"]) if b["class"] in names else 0, *b["box"]]
                for b in result.get("boxes", [])]
        self.preview.setPixmap(draw_boxes(pix, [], rows, names or None) if rows else pix)
        self.preview.show()

    def show(self, results: list[dict]) -> None:  # noqa: D102 - not QWidget.show: results arrive
        if not results:
            return
        r = results[0]
        if "top" in r:
            self.bars.set_items([(t["class"], t["probability"]) for t in r["top"]])
            self.answer.setText(f"{r['class']} ({r['probability']:.1%})"
                                + (f" — {'; '.join(r['notes'])}" if r.get("notes") else ""))
        elif "text" in r:
            self.answer.setText(f"→ {r['text']}")
        elif "boxes" in r:
            self.answer.setText("<br>".join(f"{b['class']} {b['score']:.2f} at "
                                            + ", ".join(f"{v:.2f}" for v in b["box"]) for b in r["boxes"])
                                or "nothing found")
        else:
            self.answer.setText(str(r.get("value", r.get("labels"))))
        self.predicted.emit(results)

    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Try a file", "",
                                              "Images, WAV, CSV (*.png *.jpg *.jpeg *.bmp *.wav *.csv);;All (*)")
        if path:
            self.predict_inputs([path])

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        try:
            paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
            if paths:
                self.predict_inputs(paths)
                event.acceptProposedAction()
        except Exception as exc:  # a handler that raises could take the app down
            self.answer.setText(f"Cannot use the dropped file: {exc}")


def _load_predictor(project, run):
    from studio.evaluation import load_run
    from studio.evaluation.predict import Predictor, training_info

    loaded = load_run(project, run)
    return Predictor(loaded, training_info(project, loaded.settings))


def show_panel(window) -> TryItPanel:
    """The window's Try-it panel, made on first use (a dock added while the window opens
    would change which of its neighbours shows), shown and raised."""
    panel = getattr(window, "tryit_panel", None)
    if panel is None:
        panel = TryItPanel(window.document)
        panel.dock = window.add_panel(panel, "Try it", "right")
        window.tryit_panel = panel
    panel.refresh_runs()
    panel.dock.show()
    panel.dock.raise_()
    return panel


def install(window) -> None:
    window.tryit_panel = None
    action = window.menu("&Train").addAction("Try it...")
    action.triggered.connect(lambda _c=False: show_panel(window))
