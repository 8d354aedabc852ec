"""A named input or output of a layer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Port:
    """A named input or output. ``kind`` separates ordinary tensors from recurrent
    state (``[layers, B, H]``), which may only be wired to a state input."""

    name: str
    doc: str = ""
    optional: bool = False
    kind: str = "tensor"  # "tensor" or "state"
