"""Starting a run from weights trained elsewhere, as a training callback.

The matching by node name and shape is :mod:`studio.transfer`'s; this module only
decides when it happens (before the first batch) and where the weights come from.
"""

from __future__ import annotations

from studio.core.errors import StudioError
from studio.training.callbacks import TrainingCallback
from studio.transfer import TransferReport, starting_weights_path, transfer_weights


class PretrainedWeights(TrainingCallback):
    """A training callback that loads matching weights before the first batch, so a run
    fine-tunes them (frozen nodes stay as loaded). ``report`` holds what was loaded."""

    def __init__(self, source, only: list[str] | None = None, required: bool = True) -> None:
        self.source = source
        self.only = only
        self.required = required
        self.report: TransferReport | None = None

    def on_fit_start(self, trainer) -> None:
        self.report = transfer_weights(trainer.model, self.source, self.only)
        if self.required and not self.report.matched:
            raise StudioError(f"no weights matched: {self.report}")


def initial_weights(project) -> PretrainedWeights | None:
    """The callback that starts a run from the weights beside the project file (an
    imported model's, or a template's pretrained body), or None when there are none."""
    found = starting_weights_path(project)
    return PretrainedWeights(found, required=False) if found is not None else None
