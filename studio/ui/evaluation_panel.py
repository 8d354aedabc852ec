"""The Evaluation panel: what a trained run gets right and wrong, drawn from the
:class:`~studio.evaluation.EvaluationResult` that the Qt-free evaluation returns.

The confusion matrix is ONE image (a pixel block per cell), zoomed by the wheel, with the
cell under the mouse named in a tooltip, so a 1,000-class matrix draws as fast as a
10-class one. The per-class table sorts by any column. The gallery is a virtual list:
its model makes a thumbnail only when the view asks for that row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QListView, QPushButton, QSplitter,
                               QTableView, QToolTip, QVBoxLayout, QWidget)

from studio.ui.workers import create_worker

if TYPE_CHECKING:  # numpy loads with the first result, not while the window opens
    import numpy as np

THUMB = 64


def error_text(exc: BaseException) -> str:
    """A worker's exception as one line for the panel: a StudioError's own message."""
    from studio.core.errors import StudioError

    return str(exc) if isinstance(exc, StudioError) else f"{exc.__class__.__name__}: {exc}"


def matrix_qimage(matrix) -> QImage:
    """The row-normalised matrix, one pixel per cell (white to dark blue), as a QImage."""
    import numpy as np

    from studio.evaluation.metrics import row_normalised

    shade = row_normalised(matrix)
    n = matrix.shape[0]
    rgb = np.empty((n, n, 4), dtype=np.uint8)
    rgb[..., 0] = (255 - 247 * shade).astype(np.uint8)
    rgb[..., 1] = (255 - 207 * shade).astype(np.uint8)
    rgb[..., 2] = (255 - 148 * shade).astype(np.uint8)
    rgb[..., 3] = 255
    image = QImage(rgb.data, n, n, 4 * n, QImage.Format.Format_RGBX8888)
    return image.copy()  # owns its pixels once the array goes


class ConfusionView(QLabel):
    """The matrix image, scaled without smoothing; the wheel zooms, hover names the cell."""

    cellHovered = Signal(int, int, int)  # true, predicted, count

    def __init__(self) -> None:
        super().__init__()
        self.setMouseTracking(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.matrix: np.ndarray | None = None
        self.classes: list[str] = []
        self.image: QImage | None = None
        self.zoom = 1.0

    def set_matrix(self, matrix: np.ndarray, classes: list[str]) -> None:
        self.matrix, self.classes = matrix, classes
        self.image = matrix_qimage(matrix)
        self.zoom = max(1.0, 320.0 / max(1, matrix.shape[0]))
        self.redraw()

    def redraw(self) -> None:
        if self.image is None:
            return
        side = max(1, int(round(self.image.width() * self.zoom)))
        self.setPixmap(QPixmap.fromImage(self.image.scaled(side, side, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                           Qt.TransformationMode.FastTransformation)))
        self.setFixedSize(side, side)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.image is None:
            return
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.zoom = min(64.0, max(0.25, self.zoom * factor))
        self.redraw()
        event.accept()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        if self.matrix is None:
            return None
        n = self.matrix.shape[0]
        r, c = int(y / self.zoom), int(x / self.zoom)
        return (r, c) if 0 <= r < n and 0 <= c < n else None

    def describe(self, r: int, c: int) -> str:
        count = int(self.matrix[r, c])
        total = int(self.matrix[r].sum())
        share = f" ({count / total:.1%} of {self.classes[r]})" if total else ""
        return f"true {self.classes[r]}, predicted {self.classes[c]}: {count}{share}"

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is not None:
            r, c = cell
            self.setToolTip(self.describe(r, c))
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(r, c), self)
            self.cellHovered.emit(r, c, int(self.matrix[r, c]))


def sample_image(sample, spec: dict) -> QImage | None:
    """An image sample ``[C, H, W]`` in [0, 1] as a QImage; None for other kinds."""
    import numpy as np

    import torch

    if spec.get("kind") != "image" or not isinstance(sample, torch.Tensor) or sample.dim() != 3:
        return None
    x = (sample.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    if x.shape[0] == 1:
        arr = np.ascontiguousarray(x[0].numpy())
        return QImage(arr.data, arr.shape[1], arr.shape[0], arr.shape[1], QImage.Format.Format_Grayscale8).copy()
    arr = np.ascontiguousarray(x[:3].permute(1, 2, 0).numpy())
    return QImage(arr.data, arr.shape[1], arr.shape[0], 3 * arr.shape[1], QImage.Format.Format_RGB888).copy()


def spectrogram_image(wave, size: int = THUMB) -> QImage:
    """A waveform's log-magnitude spectrogram, as a grey image."""
    import numpy as np

    import torch

    x = torch.as_tensor(wave).float().flatten()
    n_fft = 256 if len(x) >= 256 else max(8, len(x))
    spec = torch.stft(x, n_fft, hop_length=max(1, n_fft // 4), window=torch.hann_window(n_fft),
                      return_complex=True).abs().add(1e-6).log()
    spec = ((spec - spec.min()) / (spec.max() - spec.min() + 1e-9) * 255).flip(0).to(torch.uint8).numpy()
    arr = np.ascontiguousarray(spec)
    return QImage(arr.data, arr.shape[1], arr.shape[0], arr.shape[1], QImage.Format.Format_Grayscale8).copy()


TRUE_COLOUR, FOUND_COLOUR = QColor("#2ca02c"), QColor("#d62728")


def draw_boxes(pix: QPixmap, truths, detections, names=None) -> QPixmap:
    """True boxes in green, found ones in red with their score; corners are fractions."""
    out = QPixmap(pix)
    painter = QPainter(out)
    w, h = out.width(), out.height()
    for rows, colour, scored in ((truths, TRUE_COLOUR, False), (detections, FOUND_COLOUR, True)):
        painter.setPen(QPen(colour, 1))
        for row in rows:
            x1, y1, x2, y2 = (float(v) for v in row[-4:])
            painter.drawRect(int(x1 * w), int(y1 * h), max(1, int((x2 - x1) * w)), max(1, int((y2 - y1) * h)))
            if scored:
                label = f"{names[int(row[1])]} " if names else ""
                painter.drawText(int(x1 * w) + 2, int(y1 * h) + 10, f"{label}{float(row[0]):.2f}")
    painter.end()
    return out


def scatter_pixmap(true: np.ndarray, pred: np.ndarray, size: int = 300) -> QPixmap:
    """Predicted against true, the diagonal drawn: a regression's picture."""
    import numpy as np

    t, p = np.asarray(true, dtype=float).ravel(), np.asarray(pred, dtype=float).ravel()
    pix = QPixmap(size, size)
    pix.fill(QColor("white"))
    if not len(t):
        return pix
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    hi = hi if hi > lo else lo + 1
    m = 20
    sx = lambda v: m + (v - lo) / (hi - lo) * (size - 2 * m)  # noqa: E731
    painter = QPainter(pix)
    painter.setPen(QPen(QColor("#bbb")))
    painter.drawLine(int(sx(lo)), int(size - sx(lo)), int(sx(hi)), int(size - sx(hi)))
    painter.setPen(QPen(QColor("#1f5fa8"), 2))
    step = max(1, len(t) // 5000)
    for a, b in zip(t[::step], p[::step]):
        painter.drawPoint(int(sx(a)), int(size - sx(b)))
    painter.setPen(QPen(QColor("black")))
    painter.drawText(4, size - 4, f"true {lo:.3g} to {hi:.3g}; up: predicted")
    painter.end()
    return pix


class GalleryModel(QAbstractListModel):
    """The misclassified (or correct) samples, most confident first; a thumbnail and a
    caption are made when a row is shown, so a list of 10,000 costs nothing up front."""

    def __init__(self) -> None:
        super().__init__()
        self.result = None
        self.rows = []  # sample indices, an array once a result is shown
        self._thumbs: dict[int, QPixmap] = {}

    def set_rows(self, result, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.result, self.rows, self._thumbs = result, rows, {}
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.rows)

    def sample_index(self, row: int) -> int:
        return int(self.rows[row])

    def caption(self, i: int) -> str:
        r = self.result
        if r.kind == "seq2seq":
            row = r.rows[i]
            return f"{row['source']} → {row['prediction']}  (target {row['target']})"
        if r.kind == "detection":
            return f"#{i}: {len(r.detections[i])} found, {len(r.truths[i])} true"
        if r.kind == "regression":
            return f"#{i}: {r.predicted[i].ravel()[0]:.3g} (true {r.truth[i].ravel()[0]:.3g})"
        top = r.top_k(i)
        true = r.class_name(int(r.truth[i])) if r.kind == "classification" else ""
        return f"{top[0][0]} {top[0][1]:.0%}" + (f" (true {true})" if true else "")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.result is None:
            return None
        i = self.sample_index(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return self.caption(i)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(i)
        if role == Qt.ItemDataRole.UserRole:
            return i
        return None

    def thumbnail(self, i: int) -> QPixmap | None:
        if i in self._thumbs:
            return self._thumbs[i]
        r = self.result
        if r.data is None or r.kind == "seq2seq":
            return None
        sample = r.sample(i).get(r.input_field)
        kind = r.input_spec.get("kind")
        image = sample_image(sample, r.input_spec) if kind == "image" else (
            spectrogram_image(sample) if kind == "waveform" else None)
        if image is None:
            return None
        pix = QPixmap.fromImage(image.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.FastTransformation))
        if r.kind == "detection":
            pix = draw_boxes(pix, r.truths[i], r.detections[i])
        if len(self._thumbs) > 2000:
            self._thumbs.clear()
        self._thumbs[i] = pix
        return pix


def _number_item(value) -> QStandardItem:
    item = QStandardItem()
    if isinstance(value, float):
        item.setData(round(value, 4) if value == value else -1.0, Qt.ItemDataRole.DisplayRole)
        item.setData(f"{value:.4f}" if value == value else "–", Qt.ItemDataRole.ToolTipRole)
    else:
        item.setData(value, Qt.ItemDataRole.DisplayRole)
    item.setEditable(False)
    return item


class EvaluationPanel(QWidget):
    evaluated = Signal(object)  # an EvaluationResult, shown
    failedWith = Signal(str)

    def __init__(self, document) -> None:
        super().__init__()
        self.document = document
        self.result = None
        self._worker = None
        self.runs = QComboBox()
        self.split = QComboBox()
        self.split.addItems(["val", "test"])
        self.go = QPushButton("Evaluate")
        self.go.clicked.connect(self.start)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_runs)
        top = QHBoxLayout()
        for w in (QLabel("Run"), self.runs, QLabel("Split"), self.split, self.go, refresh):
            top.addWidget(w)
        top.addStretch(1)
        self.summary = QLabel("Choose a run and press Evaluate.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.matrix = ConfusionView()
        self.table = QTableView()
        self.table_model = QStandardItemModel()
        self.table.setModel(self.table_model)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setVisible(False)
        self.show_correct = QCheckBox("Show correct ones")
        self.show_correct.toggled.connect(self._fill_gallery)
        self.gallery_model = GalleryModel()
        self.gallery = QListView()
        self.gallery.setModel(self.gallery_model)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setLayoutMode(QListView.LayoutMode.Batched)
        self.gallery.clicked.connect(self._pick)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        gallery_box = QWidget()
        g = QVBoxLayout(gallery_box)
        g.setContentsMargins(0, 0, 0, 0)
        g.addWidget(self.show_correct)
        g.addWidget(self.gallery, 1)
        g.addWidget(self.detail)
        from PySide6.QtWidgets import QScrollArea

        scroll = QScrollArea()
        scroll.setWidget(self.matrix)
        scroll.setWidgetResizable(False)
        self.matrix_scroll = scroll
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(self.table)
        split.addWidget(gallery_box)
        split.setSizes([340, 380, 320])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        document.projectReplaced.connect(lambda _p: self.refresh_runs())
        self.refresh_runs()

    def refresh_runs(self) -> None:
        from studio.training.runs import list_runs, runs_dir_for

        current = self.runs.currentData()
        self.runs.clear()
        for run in reversed(list_runs(runs_dir_for(self.document.project))):
            acc = next((v for r in reversed(run.history) for v in r.get("metrics", {}).values() if v is not None),
                       None)
            label = f"{run.name} · {run.status} · {run.epochs_done} epochs" + (f" · {acc:.3f}" if acc else "")
            self.runs.addItem(label, str(run.path))
        if current is not None and self.runs.findData(current) >= 0:
            self.runs.setCurrentIndex(self.runs.findData(current))

    def start(self) -> None:
        run = self.runs.currentData()
        if not run:
            self.summary.setText("No run to evaluate: train the project first (Train > Train).")
            return
        from studio.evaluation import evaluate

        self.go.setEnabled(False)
        self.summary.setText(f"Evaluating {run} ...")
        project = self.document.project
        self._worker = create_worker(evaluate, project, run, self.split.currentText(),
                                     _connect={"returned": self.show_result, "errored": self._errored})

    def _errored(self, exc: BaseException) -> None:
        self._failed(error_text(exc))

    def _failed(self, message: str) -> None:
        self.go.setEnabled(True)
        self.summary.setText(f"Cannot evaluate: {message}")
        self.failedWith.emit(message)

    def show_result(self, result) -> None:
        self.go.setEnabled(True)
        self.result = result
        figures = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items() if v is not None and v == v)
        pairs = "; ".join(f"{p['true']} as {p['predicted']} ({p['count']})" for p in result.pairs[:5])
        self.summary.setText(f"{result.kind}, {result.samples} samples ({result.split}, {result.checkpoint} "
                             f"weights): {figures}" + (f"<br>Most confused: {pairs}" if pairs else ""))
        if result.confusion is not None:
            self.matrix.set_matrix(result.confusion, result.classes)
            self.matrix_scroll.show()
        elif result.kind == "regression":
            self.matrix.matrix = self.matrix.image = None
            pix = scatter_pixmap(result.truth, result.predicted)
            self.matrix.setPixmap(pix)
            self.matrix.setFixedSize(pix.size())
            self.matrix_scroll.show()
        else:
            self.matrix_scroll.hide()
        self.table_model.clear()
        if result.table:
            keys = list(result.table[0])
            self.table_model.setHorizontalHeaderLabels(keys)
            for row in result.table:
                self.table_model.appendRow([_number_item(row[k]) for k in keys])
            self.table.resizeColumnsToContents()
        self._fill_gallery()
        self.evaluated.emit(result)

    def _fill_gallery(self) -> None:
        r = self.result
        if r is None:
            return
        rows = r.correct() if self.show_correct.isChecked() else r.misclassified()
        self.gallery_model.set_rows(r, rows)
        self.detail.setText(f"{len(rows)} {'correct' if self.show_correct.isChecked() else 'wrong'} samples, "
                            "most confident first")

    def _pick(self, index: QModelIndex) -> None:
        r = self.result
        i = self.gallery_model.sample_index(index.row())
        if r.kind == "seq2seq":
            row = r.rows[i]
            marked = "".join(f"<span style='background:#f7b2b2'>{c}</span>" if d else c
                             for c, d in zip(row["prediction"], row["differs"]))
            self.detail.setText(f"{row['source']}<br>{marked}<br>{row['target']}")
            return
        lines = [f"sample {i}"]
        if r.kind == "classification":
            lines.append(f"true: {r.class_name(int(r.truth[i]))}")
        lines += [f"{name}: {p:.1%}" for name, p in r.top_k(i)]
        if r.kind == "detection":
            lines += [f"{r.class_name(int(d[1]))} {d[0]:.2f}" for d in r.detections[i]]
        self.detail.setText("<br>".join(lines))


def show_panel(window) -> EvaluationPanel:
    """The window's Evaluation panel, made on first use, shown and raised."""
    panel = getattr(window, "evaluation_panel", None)
    if panel is None:
        panel = EvaluationPanel(window.document)
        panel.dock = window.add_panel(panel, "Evaluation", "bottom")
        window.evaluation_panel = panel
    panel.refresh_runs()
    panel.dock.show()
    panel.dock.raise_()
    return panel


def install(window) -> None:
    window.evaluation_panel = None
    action = window.menu("&Train").addAction("Evaluate a run...")
    action.triggered.connect(lambda _c=False: show_panel(window))
