"""What a layer costs and how its module is built: plain data, read by analysis, the
compiler and the code generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Cost:
    """Learnable parameters and floating-point operations for one sample."""

    params: int = 0
    flops: int = 0


@dataclass(frozen=True)
class Ctor:
    """How to construct a node's module: a class and keyword arguments.

    The compiler instantiates it; the code generator writes it out as source.
    ``cls`` is a class object (``torch.nn.Conv2d``, or a class from
    :mod:`studio.layers.modules` or a plugin).
    """

    cls: Any
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def create(self) -> Any:
        return self.cls(**self.kwargs)
