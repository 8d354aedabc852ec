"""A plugin that adds a loss and an output, with parameter names of its own: the trainer
learns which field holds the labels, the weight, the metric and the ignored label from
the ``LossRole`` declaration, never from the names."""

from __future__ import annotations

import functools

from studio.core.errors import ShapeError
from studio.layers.spec import ROLE_OUTPUT, Ctor, LayerSpec, LossRole, Param, Port


def _scores(title, p, ins):
    x = ins["in"]
    if x.rank != 2 or x.dtype != "float":
        raise ShapeError(f"{title} expects class scores [B, classes], got {x}")
    return {}


@functools.lru_cache(maxsize=None)
def focal_class():
    import torch

    class FocalLoss(torch.nn.Module):
        """Cross-entropy that weighs each sample by (1 - p_true) ** gamma (Lin et al., 2017)."""

        def __init__(self, gamma: float, ignore_index: int) -> None:
            super().__init__()
            self.gamma = gamma
            self.ignore_index = ignore_index

        def forward(self, scores, labels):
            keep = labels != self.ignore_index
            logp = torch.log_softmax(scores[keep], dim=-1).gather(1, labels[keep][:, None])[:, 0]
            return (-(1 - logp.exp()) ** self.gamma * logp).mean()

    return FocalLoss


@functools.lru_cache(maxsize=None)
def identity_class():
    import torch

    return torch.nn.Identity


FOCAL = LayerSpec(
    id="FocalLoss", title="Focal loss", category="Loss",
    doc="Classification loss that looks hardest at the samples it gets wrong.",
    params=(
        Param("labels", "str", "label", doc="The dataset field holding the class labels"),
        Param("strength", "float", 1.0, 0.0, 1e6, doc="This loss's weight in the total"),
        Param("gamma", "float", 2.0, 0.0, 10.0),
        Param("skip_label", "int", -1, -100, 1_000_000, doc="Label left out (unlabelled samples)"),
        Param("score", "choice", "accuracy", choices=("accuracy", "none")),
    ),
    inputs=(Port("in", "class scores"),), outputs=(),
    infer=lambda p, ins: _scores("FocalLoss", p, ins),
    build=lambda p, ins: Ctor(focal_class(), {"gamma": p["gamma"], "ignore_index": p["skip_label"]}),
    loss=LossRole(target="labels", weight="strength", metric="score", ignore_index="skip_label"),
)

SCORES = LayerSpec(
    id="Scores", title="Scores", category="Input/Output",
    doc="Returns the class scores for inference, beside the loss.",
    inputs=(Port("in"),), outputs=(),
    infer=lambda p, ins: _scores("Scores", p, ins),
    build=lambda p, ins: Ctor(identity_class()),
    role=ROLE_OUTPUT,
)


def register(registry) -> None:
    registry.add(FOCAL)
    registry.add(SCORES)
