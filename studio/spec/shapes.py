"""Tensor shapes with a symbolic batch axis and, where known, what each axis means.

A dimension is an ``int`` or a symbol (``"B"`` for the batch, ``"T"`` for a variable
sequence length). Axis names (``"C"``, ``"H"``, ``"W"``, ``"T"``, ``"F"``...) are kept
when a rule knows them, so messages can say ``[B, C, H, W]`` instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Iterable, Union

Dim = Union[int, str]

BATCH = "B"


@dataclass(frozen=True)
class TensorShape:
    dims: tuple[Dim, ...]
    axes: tuple[str, ...] | None = None
    dtype: str = "float"  # "float" or "long" (integer ids and class labels)

    def __post_init__(self) -> None:
        if self.axes is not None and len(self.axes) != len(self.dims):
            object.__setattr__(self, "axes", None)

    @classmethod
    def of(cls, *dims: Dim, axes: str | Iterable[str] | None = None, dtype: str = "float") -> "TensorShape":
        if isinstance(axes, str):
            axes = tuple(axes)
        return cls(tuple(dims), tuple(axes) if axes is not None else None, dtype)

    @property
    def rank(self) -> int:
        return len(self.dims)

    def __len__(self) -> int:
        return len(self.dims)

    def __getitem__(self, i: int) -> Dim:
        return self.dims[i]

    def with_dims(self, dims: Iterable[Dim], axes: Iterable[str] | None = None) -> "TensorShape":
        return TensorShape(tuple(dims), tuple(axes) if axes is not None else None, self.dtype)

    def numel(self, symbols: dict[str, int] | None = None) -> int:
        """Element count with symbols replaced (batch and unknown lengths count as 1)."""
        symbols = symbols or {}
        return prod(d if isinstance(d, int) else symbols.get(d, 1) for d in self.dims)

    def __str__(self) -> str:
        return "[" + ", ".join(str(d) for d in self.dims) + "]"

    def describe(self) -> str:
        """``[B, C=16, H=7, W=7]`` when axis names are known, else ``[B, 16, 7, 7]``."""
        if not self.axes:
            return str(self)
        parts = []
        for d, a in zip(self.dims, self.axes):
            parts.append(str(d) if (isinstance(d, str) and d == a) or a == "?" else f"{a}={d}")
        return "[" + ", ".join(parts) + "]"

    def to_json(self) -> list:
        return list(self.dims)


def layout(shape: TensorShape) -> str:
    """A short description of the expected layout for messages, e.g. ``[B, F]``."""
    if shape.axes:
        return "[" + ", ".join(shape.axes) + "]"
    return str(shape)


def dim_same(a: Dim, b: Dim) -> bool:
    return a == b


def conv_out(size: Dim, kernel: int, stride: int, padding: int, dilation: int = 1) -> Dim:
    """Output length of a convolution or pooling window along one axis."""
    if isinstance(size, str):
        if stride == 1 and 2 * padding == dilation * (kernel - 1):
            return size
        return f"{size}'"
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_out(size: Dim, kernel: int, stride: int, padding: int, output_padding: int = 0) -> Dim:
    if isinstance(size, str):
        return f"{size}'"
    return (size - 1) * stride - 2 * padding + kernel + output_padding
