"""Early stopping as a callback: stop when the monitored loss has not improved for
``patience`` epochs (the ``early_stopping`` setting)."""

from __future__ import annotations

import math

from studio.training.callbacks import TrainingCallback, monitored
from studio.training.status import RunStatus


class EarlyStopping(TrainingCallback):
    state_key = "early_stopping"

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best = math.inf
        self.bad_epochs = 0

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad_epochs = float(state["best"]), int(state["bad_epochs"])

    def on_train_epoch_end(self, trainer, record: dict) -> None:
        if monitored(record) < self.best:
            self.best, self.bad_epochs = monitored(record), 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience and trainer.epoch < trainer.settings["epochs"]:
            trainer.stop_after_epoch(RunStatus.EARLY_STOPPING, f"no improvement for {self.patience} epoch(s): "
                                                               f"stopped after epoch {trainer.epoch}")
