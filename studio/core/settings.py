"""Training settings as stored in the project file, declared with the same typed
parameters as layers so the UI can build its form from them."""

from __future__ import annotations

from typing import Any

from studio.core.errors import BadParameter
from studio.spec.params import Param

TRAINING_PARAMS: tuple[Param, ...] = (
    Param("optimizer", "choice", "adam", choices=("sgd", "adam", "adamw", "rmsprop")),
    Param("learning_rate", "float", 1e-3, 1e-8, 10.0),
    Param("momentum", "float", 0.9, 0.0, 0.999, doc="SGD and RMSprop momentum"),
    Param("weight_decay", "float", 0.0, 0.0, 1.0),
    Param("schedule", "choice", "none", choices=("none", "step", "cosine", "onecycle", "plateau")),
    Param("step_size", "int", 10, 1, 100_000, doc="Epochs between learning-rate steps (step schedule)"),
    Param("gamma", "float", 0.1, 0.0, 1.0, doc="Learning-rate factor per step / on plateau"),
    Param("epochs", "int", 10, 1, 100_000),
    Param("batch_size", "int", 64, 1, 1_000_000),
    Param("val_split", "float", 0.2, 0.0, 0.9, doc="Fraction of the data held out for validation"),
    Param("seed", "int", 0, 0, 2**31 - 1),
    Param("early_stopping", "int", 0, 0, 10_000, doc="Stop after this many epochs without improvement (0: off)"),
    Param("device", "str", "auto", doc="auto, cpu, cuda, cuda:N, mps or xla"),
    Param("threads", "int", 0, 0, 1024, doc="Torch threads for training (0: cores - 1)"),
    Param("mixed_precision", "bool", False, doc="Half-precision autocast on CUDA"),
    Param("grad_clip", "float", 0.0, 0.0, 1e6, doc="Clip the gradient norm (0: off)"),
    Param("memory_format", "choice", "auto", choices=("auto", "channels_last", "contiguous"),
          doc="Layout of image tensors in training. auto: channels_last for convolutional "
              "networks on CPU (1.2-1.7x faster there) and on CUDA with mixed precision"),
    Param("tensorboard", "folder", "", doc="Write TensorBoard event files into this folder, one subfolder "
          "per run (empty: off; a relative folder is read from the project file's folder). Needs the "
          "tensorboard package"),
)

_BY_NAME = {p.name: p for p in TRAINING_PARAMS}


def default_training() -> dict[str, Any]:
    return {p.name: p.default for p in TRAINING_PARAMS}


def validate_training(values: dict[str, Any]) -> dict[str, Any]:
    """Complete with defaults and check every value; raises :class:`BadParameter`."""
    out = default_training()
    for name, value in values.items():
        p = _BY_NAME.get(name)
        if p is None:
            raise BadParameter("training", name, "unknown setting; known: " + ", ".join(_BY_NAME))
        out[name] = p.validate("training", value)
    return out
