"""Registers the task metrics with the trainer: ``greedy_exact_match`` (seq2seq) and
``map50`` (detection). Imported with the built-in datasets, so any run that loads data
by name can score them."""

from __future__ import annotations

from studio.training.metrics import metric_names, register_metric


def _greedy(params: dict):
    from studio.tasks.seq2seq import GreedyExactMatch

    return GreedyExactMatch(target=str(params.get("target", "tgt_out")),
                            ignore_index=int(params.get("ignore_index", -100)))


def _map50(params: dict):
    from studio.tasks.detection import MeanAP

    return MeanAP(iou_threshold=0.5)


for _name, _factory in (("greedy_exact_match", _greedy), ("map50", _map50)):
    if _name not in metric_names():
        register_metric(_name, _factory)
