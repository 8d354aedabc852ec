"""What part a layer plays in a network, as its declaration states it.

``role`` says where a node sits: an ordinary layer, an input (data enters), or an output
(the model returns what reaches it). A loss is an output whose declaration carries a
:class:`LossRole`: everything the trainer needs to know about it, so the trainer never
guesses from a layer's type or its parameters' names.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLE_LAYER = "layer"
ROLE_INPUT = "input"
ROLE_OUTPUT = "output"  # loss and plain output nodes: they mark what the model returns


REDUCTIONS = ("mean", "sum")


@dataclass(frozen=True)
class LossRole:
    """How the trainer uses a loss layer; each field names one of the layer's parameters.

    The loss module is called as ``module(prediction, batch[target])``. ``reduction`` says
    what it returns: the mean over the batch ("mean"), or the sum over it ("sum"), which
    the trainer divides by the batch size; the total loss is the sum of each loss's mean
    times its weight.
    """

    target: str = "target"  # a "str" parameter: the dataset field holding the targets
    weight: str | None = "weight"  # a "float" parameter: this loss's weight in the total (None: 1)
    metric: str | None = "metric"  # a "choice" parameter: the metric scored on validation ("none": none)
    ignore_index: str | None = None  # an "int" parameter: the label left out of loss and metric
    reduction: str = "mean"  # what the module returns over a batch: "mean" or "sum"
    # What the loss's predictions are, for evaluation: "classification" (class scores on the
    # last axis), "binary" (one score per label, multi-label included), "regression" (values),
    # "detection" (a grid head of boxes); None: evaluation reports the loss's metric only.
    task: str | None = None

    def __post_init__(self) -> None:
        if self.reduction not in REDUCTIONS:
            raise TypeError(f"a loss's reduction is one of {', '.join(REDUCTIONS)}, not {self.reduction!r}")

    def params(self) -> dict[str, tuple[str, str]]:
        """The declared parameter of each field and the kind it must have."""
        kinds = {"target": "str", "weight": "float", "metric": "choice", "ignore_index": "int"}
        return {f: (getattr(self, f), kind) for f, kind in kinds.items() if getattr(self, f) is not None}
