"""The training curves: batch loss raw and smoothed, train and validation loss and the
metric per epoch, the learning rate, and past runs overlaid.

Numbers go into growing numpy buffers; a timer redraws at most 30 times a second, only
the curves that changed, with peak downsampling and clip-to-view. View ranges move only
when the data leaves them (re-ranging re-lays out an axis, which costs more than the
curves). No grid: it costs tens of ms per repaint.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer

from studio.training.runs import short_run_name

REDRAW_MS = 34  # at most 30 redraws a second
SMOOTH = 0.9  # weight of the past in the smoothed batch loss
PAST_COLOURS = ("#8a8a8a", "#a0785a", "#6a8fa0", "#8f6aa0", "#6aa07a")


class Series:
    """A growing x/y buffer: appends amortise to O(1), views cost nothing."""

    def __init__(self) -> None:
        self.x = np.empty(1024)
        self.y = np.empty(1024)
        self.n = 0
        self.lo = math.inf  # finite y range seen so far, for the view range
        self.hi = -math.inf
        self.pos_lo = math.inf  # smallest positive y, for a log axis
        self.dirty = False

    def extend(self, xs, ys) -> None:
        k = len(xs)
        if self.n + k > len(self.x):
            size = max(len(self.x) * 2, self.n + k)
            self.x = np.resize(self.x, size)
            self.y = np.resize(self.y, size)
        self.x[self.n:self.n + k] = xs
        self.y[self.n:self.n + k] = ys
        self.n += k
        self.dirty = True
        ys = np.asarray(ys, dtype=float)
        finite = ys[np.isfinite(ys)]
        if finite.size:
            self.lo = min(self.lo, float(finite.min()))
            self.hi = max(self.hi, float(finite.max()))
            positive = finite[finite > 0]
            if positive.size:
                self.pos_lo = min(self.pos_lo, float(positive.min()))

    def clear(self) -> None:
        self.n = 0
        self.lo, self.hi, self.pos_lo = math.inf, -math.inf, math.inf
        self.dirty = True

    def data(self):
        return self.x[: self.n], self.y[: self.n]


def _pen(colour, style=Qt.PenStyle.SolidLine):
    return pg.mkPen(colour, width=1, style=style)


class TrainingPlots(pg.GraphicsLayoutWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.loss_plot = self.addPlot(row=0, col=0, title="Loss")
        # Side by side: the panel docks at the bottom, wide and short.
        self.metric_plot = self.addPlot(row=0, col=1, title="Metric")
        self.lr_plot = self.addPlot(row=0, col=2, title="Learning rate")
        self.ci.layout.setColumnStretchFactor(0, 2)
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.setLabel("bottom", "epoch")
            plot.enableAutoRange(False)  # ranges follow the data in _fit_y / _fit_x
        # The legend sits in one row under the loss plot, not over its curves.
        self.legend = pg.LegendItem(colCount=4, labelTextSize="8pt")
        self.addItem(self.legend, row=1, col=0)
        self.ci.layout.setRowStretchFactor(0, 10)
        self.loss_plot.legend = self.legend  # curves with a name join it
        self.series = {k: Series() for k in ("batch", "smooth", "train", "val", "metric", "lr")}
        self.curves = {
            "batch": self.loss_plot.plot(pen=_pen((90, 140, 200, 110)), name="batch"),
            "smooth": self.loss_plot.plot(pen=_pen("#3d8fe0"), name="smoothed"),
            "train": self.loss_plot.plot(pen=_pen("#e0a03d"), symbol="o", symbolSize=5, name="train"),
            "val": self.loss_plot.plot(pen=_pen("#e05a3d"), symbol="o", symbolSize=5, name="validation"),
            "metric": self.metric_plot.plot(pen=_pen("#5ac46a"), symbol="o", symbolSize=5),
            "lr": self.lr_plot.plot(pen=_pen("#b07ad0")),
        }
        self._groups = ((self.loss_plot, ("batch", "smooth", "train", "val")),
                        (self.metric_plot, ("metric",)), (self.lr_plot, ("lr",)))
        self.past_curves: list = []
        self.epochs = 1
        self.smoothed = None
        self.dirty = False
        self.apply_palette()
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.redraw)
        self.timer.start()

    # ---- colours ------------------------------------------------------------------------
    def apply_palette(self) -> None:
        """Background, axes and titles from the application palette, so the plots
        follow the light and dark themes."""
        pal = self.palette()
        background = pal.color(pal.ColorRole.Base)
        foreground = pal.color(pal.ColorRole.Text)
        self.foreground = foreground.name()
        self.setBackground(background)
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(foreground)
                axis.setTextPen(foreground)
            title = plot.titleLabel.text
            if title:
                plot.setTitle(title, color=foreground.name())
        self.legend.setLabelTextColor(foreground)

    def changeEvent(self, event) -> None:
        from PySide6.QtCore import QEvent

        if (event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
                and hasattr(self, "legend")):  # not while the base class is being built
            self.apply_palette()
        super().changeEvent(event)

    # ---- data in ----------------------------------------------------------------------
    def reset(self) -> None:
        """Empty the live curves. (Not ``clear``: the base class binds that name to
        removing every plot.)"""
        for s in self.series.values():
            s.clear()
        self.smoothed = None
        self.dirty = True

    def set_epochs(self, epochs: int) -> None:
        self.epochs = max(1, int(epochs))
        self._fit_x()

    def add_batches(self, flat: list) -> None:
        """``flat`` is ``[x, loss, x, loss, ...]`` with x in (fractional) epochs."""
        arr = np.asarray(flat, dtype=float).reshape(-1, 2)
        xs, ys = arr[:, 0], arr[:, 1]
        smooth = np.empty_like(ys)
        s = self.smoothed
        for i, y in enumerate(ys):  # the few values of one signal
            s = y if s is None else SMOOTH * s + (1 - SMOOTH) * y
            smooth[i] = s
        self.smoothed = s
        self.series["batch"].extend(xs, ys)
        self.series["smooth"].extend(xs, smooth)
        self.dirty = True

    def add_epoch(self, r: dict) -> None:
        e = [float(r["epoch"])]
        self.series["train"].extend(e, [r["train_loss"]])
        if r["val_loss"] is not None:
            self.series["val"].extend(e, [r["val_loss"]])
        if r["metrics"]:
            name, value = next(iter(r["metrics"].items()))
            self.series["metric"].extend(e, [math.nan if value is None else value])
            if self.metric_plot.titleLabel.text != name:
                self.metric_plot.setTitle(name, color=self.foreground)
        self.series["lr"].extend(e, [r["lr"]])
        self.dirty = True

    def set_past(self, runs: list[tuple[str, list[dict]]]) -> None:
        """Overlay past runs' per-epoch validation (else training) loss, dashed."""
        for curve in self.past_curves:
            self.loss_plot.removeItem(curve)
        self.past_curves = []
        for i, (name, history) in enumerate(runs):
            if not history:
                continue
            key = "val_loss" if history[0].get("val_loss") is not None else "train_loss"
            epochs = [r["epoch"] for r in history]
            ys = [math.nan if r.get(key) is None else r[key] for r in history]
            curve = pg.PlotDataItem(epochs, ys, pen=_pen(PAST_COLOURS[i % len(PAST_COLOURS)], Qt.PenStyle.DashLine),
                                    name=f"{short_run_name(name)} ({key.split('_')[0]})")
            curve.series = Series()
            curve.series.extend(epochs, ys)
            self.loss_plot.addItem(curve)
            self.past_curves.append(curve)
        self._fit_x()
        self.dirty = True

    def set_log(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.lr_plot.setLogMode(y=on)
        for s in self.series.values():
            s.dirty = True
        self._fit_x()
        self.dirty = True

    # ---- drawing ----------------------------------------------------------------------
    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        for name, curve in self.curves.items():
            series = self.series[name]
            if series.dirty:  # untouched plots are not repainted
                series.dirty = False
                curve.setData(*series.data())
        for plot, names in self._groups:
            extra = [c.series for c in self.past_curves] if plot is self.loss_plot else []
            self._fit_y(plot, [self.series[n] for n in names] + extra)

    def _fit_y(self, plot, series: list[Series]) -> None:
        log = plot.getAxis("left").logMode
        lo = min((x.pos_lo if log else x.lo) for x in series)
        hi = max(x.hi for x in series)
        if not (math.isfinite(lo) and math.isfinite(hi)) or (log and hi <= 0):
            return
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        vlo, vhi = plot.getViewBox().viewRange()[1]
        span = max(hi - lo, abs(hi) * 0.05, 1e-9)  # one point still gets a readable axis
        if lo >= vlo and hi <= vhi and (vhi - vlo) <= 2.5 * span:
            return
        pad = 0.08 * span
        plot.setYRange(lo - pad, hi + pad, padding=0)

    def _fit_x(self) -> None:
        longest = max([self.epochs] + [c.series.n for c in self.past_curves])
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.setXRange(0, max(1, longest), padding=0.02)

    def point_counts(self) -> dict[str, int]:
        """Points each live curve is drawing (what a person would see)."""
        out = {}
        for name, curve in self.curves.items():
            x, _ = curve.getData()
            out[name] = 0 if x is None else len(x)
        return out
