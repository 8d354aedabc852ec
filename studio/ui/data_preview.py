"""Preview widgets of the data panel: an image grid (with boxes), a waveform and its
spectrogram, text pairs, rows of numbers, and class-balance bars."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # torch arrives with the first preview, not with the editor
    import torch

from studio.data.preview import spectrogram

BOX_COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"]


def to_qimage(x: torch.Tensor) -> QImage:
    """[C, H, W] floats in [0, 1] to a QImage that owns its pixels."""
    x = x.detach().float().cpu()
    lo, hi = float(x.min()), float(x.max())
    if lo < -0.5 or hi > 1.5:  # standardised inputs: stretch; mild noise is only clipped
        x = (x - lo) / max(hi - lo, 1e-6)
    import torch

    a = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    c, h, w = a.shape
    if c == 1:
        data = a[0].contiguous().numpy().tobytes()
        return QImage(data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    rgb = a[:3].permute(1, 2, 0).contiguous() if c >= 3 else a[:1].expand(3, h, w).permute(1, 2, 0).contiguous()
    return QImage(rgb.numpy().tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ImageGrid(QWidget):
    """Thumbnails with their label underneath; detection boxes drawn over them."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.images: list[QImage] = []
        self.captions: list[str] = []
        self.boxes: list[list[tuple[int, float, float, float, float]]] = []
        self.class_names: list[str] = []
        self.pairs = False
        self.setMinimumSize(200, 160)

    def set_images(self, x: torch.Tensor, captions: list[str], boxes: torch.Tensor | None = None,
                   class_names: list[str] | None = None) -> None:
        self.images = [to_qimage(t) for t in x]
        self.captions = captions
        self.class_names = class_names or []
        self.boxes = []
        self.pairs = False
        if boxes is not None:
            for b in boxes:
                self.boxes.append([tuple(r) for r in b.tolist() if r[0] >= 0])
        self.update()

    def set_pairs(self, before: torch.Tensor, after: torch.Tensor, boxes_before=None, boxes_after=None,
                  class_names: list[str] | None = None) -> None:
        """Each original beside its augmented version."""
        import torch

        x = torch.stack([before, after], 1).flatten(0, 1)
        boxes = None if boxes_before is None else torch.stack([boxes_before, boxes_after], 1).flatten(0, 1)
        self.set_images(x, ["original", "augmented"] * len(before), boxes, class_names)
        self.pairs = True

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().base())
        n = len(self.images)
        if not n:
            p.end()
            return
        cols = max(1, int((n * self.width() / max(self.height(), 1)) ** 0.5 + 0.5))
        if self.pairs:  # keep each original and its augmented version on one row
            cols = max(2, cols + cols % 2)
        rows = -(-n // cols)
        cw, ch = self.width() / cols, self.height() / rows
        text_h = 14
        side = max(4.0, min(cw - 6, ch - text_h - 6))
        p.setFont(QFont(p.font().family(), 8))
        for i, img in enumerate(self.images):
            x0, y0 = (i % cols) * cw, (i // cols) * ch
            aspect = img.width() / max(img.height(), 1)
            w, h = (side, side / aspect) if aspect >= 1 else (side * aspect, side)
            target = QRectF(x0 + (cw - w) / 2, y0 + 3, w, h)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, img.width() > 48)
            p.drawImage(target, img)
            if i < len(self.boxes):
                for cls, cx, cy, bw, bh in self.boxes[i]:
                    box = QRectF(target.x() + (cx - bw / 2) * w, target.y() + (cy - bh / 2) * h, bw * w, bh * h)
                    # A dark halo under the class colour keeps a box visible on any content.
                    p.setPen(QPen(QColor(0, 0, 0, 200), 3))
                    p.drawRect(box)
                    p.setPen(QPen(QColor(BOX_COLOURS[int(cls) % len(BOX_COLOURS)]), 1.5))
                    p.drawRect(box)
                    if w >= 96 and int(cls) < len(self.class_names):
                        p.drawText(box.topLeft() + QPointF(2, -2), self.class_names[int(cls)])
            p.setPen(self.palette().text().color())
            if i < len(self.captions):
                p.drawText(QRectF(x0, y0 + 4 + h, cw, text_h), Qt.AlignmentFlag.AlignHCenter, self.captions[i])
        p.end()


class WaveView(QWidget):
    """One waveform at a time and its spectrogram; a spin box picks the sample."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.waves: list = []  # tensors once a preview arrives
        self.reference: torch.Tensor | None = None
        self.captions: list[str] = []
        self.sample_rate = 0
        self.picker = QSpinBox()
        self.picker.valueChanged.connect(self.show_sample)
        self.caption = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("Sample"))
        top.addWidget(self.picker)
        top.addWidget(self.caption, 1)
        self.wave_plot = None  # pyqtgraph takes 0.7 s to import: the plots come with the first audio
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)

    def _make_plots(self) -> None:
        import pyqtgraph as pg

        self.wave_plot = pg.PlotWidget()
        self.wave_plot.setMenuEnabled(False)
        self.wave_plot.setLabel("bottom", "time", "s")
        self.reference_curve = self.wave_plot.plot(pen=pg.mkPen("#888888", width=1))
        self.curve = self.wave_plot.plot(pen=pg.mkPen("#4363d8", width=1))
        self.curve.setDownsampling(auto=True, method="peak")
        self.spec_plot = pg.PlotWidget()
        self.spec_plot.setMenuEnabled(False)
        self.spec_plot.setLabel("left", "frequency", "Hz")
        self.spec_image = pg.ImageItem(axisOrder="row-major")
        self.spec_image.setColorMap(pg.colormap.get("viridis"))
        self.spec_plot.addItem(self.spec_image)
        self.layout().addWidget(self.wave_plot, 1)
        self.layout().addWidget(self.spec_plot, 1)

    def set_waves(self, waves: torch.Tensor, captions: list[str], sample_rate: int,
                  reference: torch.Tensor | None = None) -> None:
        """``reference`` (e.g. the waves before augmentation) is drawn in grey underneath."""
        self.waves, self.captions, self.sample_rate = waves.detach().float().cpu(), captions, int(sample_rate or 0)
        self.reference = None if reference is None else reference.detach().float().cpu()
        self.picker.setRange(0, max(0, len(waves) - 1))
        self.show_sample(self.picker.value())

    def show_sample(self, i: int) -> None:
        if not len(self.waves):
            return
        if self.wave_plot is None:
            self._make_plots()
        i = min(i, len(self.waves) - 1)
        wave = self.waves[i].flatten()
        rate = self.sample_rate or 1
        import torch

        t = torch.arange(len(wave)) / rate
        self.curve.setData(t.numpy(), wave.numpy())
        ref = self.reference[i].flatten().numpy() if self.reference is not None else []
        self.reference_curve.setData(t.numpy()[: len(ref)], ref)
        spec = spectrogram(wave)
        self.spec_image.setImage(spec.numpy(), levels=(float(spec.max()) - 80, float(spec.max())))
        duration, top = len(wave) / rate, (rate / 2 if self.sample_rate else spec.shape[0])
        self.spec_image.setRect(QRectF(0, 0, duration, top))
        self.caption.setText(self.captions[i] if i < len(self.captions) else "")


class RowsTable(QTableWidget):
    """Text pairs or rows of numbers, a row per sample."""

    def set_rows(self, headers: list[str], rows: list[list[str]]) -> None:
        self.clear()
        self.setColumnCount(len(headers))
        self.setRowCount(len(rows))
        self.setHorizontalHeaderLabels(headers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.setItem(r, c, item)
        self.resizeColumnsToContents()


class BalanceBars(QWidget):
    """Samples per class, training (dark) and validation (light) side by side."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, int, int]] = []
        self.message = "Load data to see its classes."
        self.setMinimumHeight(120)

    def set_counts(self, rows: list[tuple[str, int, int]] | None, message: str = "") -> None:
        self.rows = rows or []
        self.message = message
        self.setMinimumHeight(max(120, 18 * len(self.rows) + 30))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().base())
        p.setPen(self.palette().text().color())
        if not self.rows:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            p.end()
            return
        p.setFont(QFont(p.font().family(), 8))
        label_w = min(140.0, 12 + 7 * max(len(r[0]) for r in self.rows))
        top = max(max(t + v for _, t, v in self.rows), 1)
        row_h = min(22.0, (self.height() - 24) / len(self.rows))
        bar_w = self.width() - label_w - 70
        for i, (colour, text) in enumerate((("#4363d8", "training"), ("#9fb4ef", "validation"))):
            x = label_w + i * 90
            p.fillRect(QRectF(x, 5, 10, 10), QColor(colour))
            p.drawText(QRectF(x + 14, 2, 80, 16), Qt.AlignmentFlag.AlignLeft, text)
        for i, (name, tr, va) in enumerate(self.rows):
            y = 20 + i * row_h
            p.setPen(self.palette().text().color())
            p.drawText(QRectF(4, y, label_w - 8, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            w_tr, w_va = bar_w * tr / top, bar_w * va / top
            p.fillRect(QRectF(label_w, y + 2, w_tr, row_h - 4), QColor("#4363d8"))
            p.fillRect(QRectF(label_w + w_tr, y + 2, w_va, row_h - 4), QColor("#9fb4ef"))
            p.drawText(QRectF(label_w + w_tr + w_va + 4, y, 70, row_h), Qt.AlignmentFlag.AlignVCenter, f"{tr}+{va}")
        p.end()
