"""The epoch table of the training panel, like MATLAB's training progress: one row per
finished epoch (epoch, iteration, elapsed time, training and validation loss, metric,
learning rate), the best epoch marked, and the run's final figures beneath."""

from __future__ import annotations

import math

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from studio.training.callbacks import monitored
from studio.training.progress import format_seconds

COLUMNS = ("Epoch", "Iteration", "Elapsed", "Train loss", "Val loss", "Metric", "Learning rate")


def _num(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"


class EpochTable(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.final = QLabel("")
        self.final.setWordWrap(True)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().lineSpacing() + 6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.final)
        self.reset()

    def reset(self, batches: int = 0) -> None:
        self.table.setRowCount(0)
        self.final.setText("")
        self.batches = batches
        self.elapsed = 0.0
        self.best_row: int | None = None
        self.best_value = math.inf
        self.records: list[dict] = []

    def set_batches(self, batches: int) -> None:
        self.batches = batches

    def add_epoch(self, record: dict) -> None:
        self.records.append(record)
        self.elapsed += float(record.get("seconds") or 0.0)
        metric = next((v for v in (record.get("metrics") or {}).values() if v is not None), None)
        epoch = int(record["epoch"])
        values = (str(epoch), str(epoch * self.batches) if self.batches else "–", format_seconds(self.elapsed),
                  _num(record.get("train_loss")), _num(record.get("val_loss")), _num(metric), _num(record.get("lr")))
        row = self.table.rowCount()
        self.table.insertRow(row)
        for c, text in enumerate(values):
            self.table.setItem(row, c, QTableWidgetItem(text))
        score = monitored(record)
        if score is not None and score < self.best_value:
            self._mark(self.best_row, False)
            self.best_row, self.best_value = row, score
            self._mark(row, True)
        self.table.scrollToBottom()

    def _mark(self, row: int | None, best: bool) -> None:
        if row is None:
            return
        for c in range(self.table.columnCount()):
            item = self.table.item(row, c)
            font = QFont(item.font())
            font.setBold(best)
            item.setFont(font)
        first = self.table.item(row, 0)
        text = first.text().removesuffix(" ★")
        first.setText(f"{text} ★" if best else text)
        first.setToolTip("best epoch: the lowest validation loss (its weights are checkpoints/best.ckpt)"
                         if best else "")

    def best_epoch(self) -> int | None:
        return int(self.records[self.best_row]["epoch"]) if self.best_row is not None else None

    def finish(self, status_text: str) -> None:
        """The run's final figures: how it ended, the last and the best epoch's numbers."""
        if not self.records:
            self.final.setText(status_text)
            return
        last = self.records[-1]
        best = self.records[self.best_row] if self.best_row is not None else last
        metric = lambda r: ", ".join(f"{k} {_num(v)}" for k, v in (r.get("metrics") or {}).items())  # noqa: E731
        self.final.setText(
            f"{status_text}: {len(self.records)} epochs in {format_seconds(self.elapsed)}. "
            f"Last: train loss {_num(last.get('train_loss'))}, val loss {_num(last.get('val_loss'))}"
            + (f", {metric(last)}" if metric(last) else "")
            + f". Best: epoch {best['epoch']}, val loss {_num(best.get('val_loss'))}"
            + (f", {metric(best)}" if metric(best) else "") + ".")
