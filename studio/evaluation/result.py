"""What an evaluation found: plain numbers and arrays, for the command line, the report
and the editor's evaluation panel alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("classification", "multilabel", "detection", "seq2seq", "regression")


@dataclass
class EvaluationResult:
    kind: str  # one of KINDS: from the loss's declaration (LossRole.task)
    output: str  # the loss node evaluated
    split: str  # "val" or "test"
    run: str  # the run folder
    checkpoint: str  # "best", "last" or "weights"
    samples: int
    metrics: dict[str, float | None]
    classes: list[str] = field(default_factory=list)
    # Classification: counts [true, predicted]; None for the other kinds.
    confusion: np.ndarray | None = None
    # One row per class: class, precision, recall, f1, support (detection: ap, truths, detections).
    table: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)  # most-confused: true, predicted, count
    curves: dict[str, Any] = field(default_factory=dict)  # "pr", "roc" (two classes), per class for detection
    # Per sample (classification, multilabel, seq2seq: one per sample; regression: one per value).
    predicted: np.ndarray | None = None
    truth: np.ndarray | None = None
    confidence: np.ndarray | None = None  # the probability of the predicted class
    top_index: np.ndarray | None = None  # [N, k] classes, most likely first
    top_prob: np.ndarray | None = None  # [N, k]
    wrong: np.ndarray | None = None  # [N] bool: the sample is misclassified (or has a miss)
    rows: list[dict[str, Any]] = field(default_factory=list)  # seq2seq: source, prediction, target, correct
    detections: list[np.ndarray] = field(default_factory=list)  # per image [K, 6] score, class, x1, y1, x2, y2
    truths: list[np.ndarray] = field(default_factory=list)  # per image [M, 5] class, x1, y1, x2, y2
    data: Any = None  # the samples evaluated (TensorData or a dataset of dict samples)
    input_field: str = ""  # the field a gallery shows
    input_spec: dict[str, Any] = field(default_factory=dict)  # its kind and shape, from the dataset

    def misclassified(self) -> np.ndarray:
        """Indices of the samples the model got wrong, the most confident first."""
        return self._sorted(self.wrong)

    def correct(self) -> np.ndarray:
        """Indices of the samples the model got right, the most confident first."""
        return self._sorted(~self.wrong if self.wrong is not None else None)

    def _sorted(self, mask) -> np.ndarray:
        if mask is None:
            return np.zeros(0, dtype=np.int64)
        idx = np.flatnonzero(mask)
        if self.confidence is not None and len(self.confidence) == len(mask):
            idx = idx[np.argsort(-self.confidence[idx], kind="stable")]
        return idx

    def sample(self, index: int) -> dict[str, Any]:
        """The evaluated sample ``index``: its fields (tensors)."""
        return self.data[int(index)]

    def top_k(self, index: int) -> list[tuple[str, float]]:
        if self.top_index is None:
            return []
        return [(self.class_name(int(c)), float(p)) for c, p in zip(self.top_index[index], self.top_prob[index])]

    def class_name(self, c: int) -> str:
        return self.classes[c] if 0 <= c < len(self.classes) else str(c)

    def summary(self) -> dict[str, Any]:
        """The JSON summary line of ``studio evaluate --json``."""
        out = {"type": "summary", "kind": self.kind, "output": self.output, "split": self.split, "run": self.run,
               "checkpoint": self.checkpoint, "samples": self.samples, "metrics": _clean(self.metrics)}
        if self.pairs:
            out["most_confused"] = self.pairs
        if self.kind == "classification" and "roc" in self.curves:
            out["auc"] = _clean(self.curves["roc"].get("auc"))
            out["average_precision"] = _clean(self.curves["pr"].get("average_precision"))
        return out

    def class_rows(self) -> list[dict[str, Any]]:
        """The per-class table as JSON lines (``type: "class"``)."""
        return [{"type": "class", **{k: _clean(v) for k, v in row.items()}} for row in self.table]


def _clean(value):
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
