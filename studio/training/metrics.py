"""Validation metrics, pluggable by name.

A loss node's ``metric`` parameter names the metric scored on its output. The metrics
of the tasks (detection's ``map50``, seq2seq's ``greedy_exact_match``) are registered
below with the others; their code lives in :mod:`studio.tasks` and is imported when a
run asks for it. A plugin adds its own with :func:`register_metric`. Metrics accumulate tensors on the device and
turn them into one float only in ``compute()``, so validation never syncs per batch.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import torch

from studio.core.errors import StudioError


class Metric(Protocol):
    def reset(self) -> None: ...

    def update(self, pred: torch.Tensor, target: torch.Tensor, *, model: Any, batch: dict) -> None: ...

    def compute(self) -> float: ...


# Called with the loss node's params, where "target" is the dataset field its declaration
# names and "ignore_index" the label it declares ignored (when it declares one).
MetricFactory = Callable[[dict], Metric]

_METRICS: dict[str, MetricFactory] = {}


def register_metric(name: str, factory: MetricFactory) -> None:
    """``factory(params)`` builds a fresh metric for a loss node with those params."""
    if name in _METRICS:
        raise StudioError(f"metric {name!r} is already registered")
    _METRICS[name] = factory


def metric_names() -> list[str]:
    return sorted(_METRICS)


def create_metric(name: str, params: dict | None = None) -> Metric | None:
    if not name or name == "none":
        return None
    if name not in _METRICS:
        raise StudioError(f"unknown metric {name!r}; known: {', '.join(metric_names())}")
    return _METRICS[name](dict(params or {}))


class Accuracy:
    """Share of labels whose highest score is the right class (padding ignored)."""

    def __init__(self, ignore_index: int = -100) -> None:
        self.ignore_index = ignore_index
        self.reset()

    def reset(self) -> None:
        self.correct = None
        self.count = None

    def update(self, pred, target, *, model=None, batch=None) -> None:
        if pred.dim() == target.dim() and pred.shape == target.shape:
            # One score per label (binary): positive when the logit is above zero.
            hits = (pred > 0).to(target.dtype) == target
            mask = torch.ones_like(hits)
        else:
            target = target.reshape(pred.shape[:-1])
            mask = target != self.ignore_index
            hits = (pred.argmax(-1) == target) & mask
        c, n = hits.sum(), mask.sum()
        self.correct = c if self.correct is None else self.correct + c
        self.count = n if self.count is None else self.count + n

    def compute(self) -> float:
        if self.count is None or int(self.count) == 0:
            return float("nan")
        return float(self.correct) / float(self.count)


class ExactMatch:
    """Share of samples whose every label (over all positions) is right."""

    def __init__(self, ignore_index: int = -100) -> None:
        self.ignore_index = ignore_index
        self.reset()

    def reset(self) -> None:
        self.correct = None
        self.count = 0

    def update(self, pred, target, *, model=None, batch=None) -> None:
        target = target.reshape(pred.shape[:-1])
        ok = (pred.argmax(-1) == target) | (target == self.ignore_index)
        whole = ok.reshape(ok.shape[0], -1).all(dim=1).sum()
        self.correct = whole if self.correct is None else self.correct + whole
        self.count += int(target.shape[0])

    def compute(self) -> float:
        return float(self.correct) / self.count if self.count else float("nan")


class MeanAbsoluteError:
    """Mean absolute difference to the target, over every value (regression)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total = None
        self.count = 0

    def update(self, pred, target, *, model=None, batch=None) -> None:
        err = (pred.float() - target.float().reshape(pred.shape)).abs().sum()
        self.total = err if self.total is None else self.total + err
        self.count += pred.numel()

    def compute(self) -> float:
        return float(self.total) / self.count if self.count else float("nan")


register_metric("accuracy", lambda p: Accuracy(int(p.get("ignore_index", -100))))
register_metric("mae", lambda p: MeanAbsoluteError())
register_metric("exact_match", lambda p: ExactMatch(int(p.get("ignore_index", -100))))


def _greedy(params: dict) -> Metric:
    from studio.tasks.seq2seq import GreedyExactMatch

    return GreedyExactMatch(target=str(params["target"]), ignore_index=int(params.get("ignore_index", -100)))


def _map50(params: dict) -> Metric:
    from studio.tasks.detection import MeanAP

    return MeanAP(iou_threshold=0.5)


register_metric("greedy_exact_match", _greedy)
register_metric("map50", _map50)
