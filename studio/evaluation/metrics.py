"""The numbers of an evaluation, from plain arrays (numpy; no torch, no Qt)."""

from __future__ import annotations

import numpy as np


def confusion_matrix(true: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    """Counts ``[true, predicted]``, one bincount over ``true * classes + pred``."""
    true = np.asarray(true, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    return np.bincount(true * classes + pred, minlength=classes * classes).reshape(classes, classes)


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total (a class with no samples stays 0)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=np.float64), where=totals > 0)


def per_class(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of each class; a ratio over nothing is NaN."""
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    f1 = np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def confused_pairs(matrix: np.ndarray, limit: int = 10) -> list[tuple[int, int, int]]:
    """The off-diagonal cells with the most samples: ``(true, predicted, count)``, most first."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    flat = np.flatnonzero(off)
    if not len(flat):
        return []
    top = flat[np.argsort(-off.flat[flat], kind="stable")[:limit]]
    n = matrix.shape[0]
    return [(int(i // n), int(i % n), int(off.flat[i])) for i in top]


def pr_curve(scores: np.ndarray, positive: np.ndarray) -> dict[str, list[float]]:
    """Precision and recall at every threshold, highest score first, and the average precision."""
    order = np.argsort(-scores, kind="stable")
    hits = positive[order].astype(np.float64)
    tp = np.cumsum(hits)
    fp = np.cumsum(1.0 - hits)
    n_pos = hits.sum()
    recall = tp / n_pos if n_pos else np.zeros_like(tp)
    precision = tp / np.maximum(tp + fp, 1)
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * np.maximum.accumulate(precision[::-1])[::-1]))
    return {"precision": precision.tolist(), "recall": recall.tolist(), "average_precision": ap if n_pos else None}


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> dict[str, list[float]]:
    """False and true positive rates at every threshold, and the area under the curve."""
    order = np.argsort(-scores, kind="stable")
    hits = positive[order].astype(np.float64)
    n_pos, n_neg = hits.sum(), len(hits) - hits.sum()
    tpr = np.concatenate([[0.0], np.cumsum(hits) / n_pos]) if n_pos else np.zeros(len(hits) + 1)
    fpr = np.concatenate([[0.0], np.cumsum(1.0 - hits) / n_neg]) if n_neg else np.zeros(len(hits) + 1)
    auc = float(np.trapezoid(tpr, fpr)) if n_pos and n_neg else None
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "auc": auc}


def regression_figures(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    err = pred - true
    mae = float(np.abs(err).mean()) if err.size else float("nan")
    rmse = float(np.sqrt((err ** 2).mean())) if err.size else float("nan")
    spread = float(((true - true.mean()) ** 2).sum()) if true.size else 0.0
    r2 = 1.0 - float((err ** 2).sum()) / spread if spread > 0 else float("nan")
    return {"mae": mae, "rmse": rmse, "r2": r2}


def char_diff(prediction: str, target: str) -> list[bool]:
    """For each character of ``prediction``: whether it differs from ``target`` there."""
    return [i >= len(target) or c != target[i] for i, c in enumerate(prediction)]
