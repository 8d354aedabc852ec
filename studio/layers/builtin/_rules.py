"""Small helpers shared by the built-in shape rules and cost formulas."""

from __future__ import annotations

from math import prod

from studio.spec.errors import ShapeError
from studio.spec.shapes import TensorShape


def one(ins, port: str = "in") -> TensorShape:
    return ins[port]


def expect_rank(title: str, shape: TensorShape, ranks: tuple[int, ...], layout: str, hint: str = "") -> None:
    if shape.rank not in ranks:
        raise ShapeError(f"{title} expects {layout}, got {shape}" + (f": {hint}" if hint else ""))


def expect_float(title: str, shape: TensorShape) -> None:
    if shape.dtype != "float":
        raise ShapeError(f"{title} expects real values, got integer ids {shape}: insert Embedding first")


def axis_of(title: str, shape: TensorShape, axis: int, what: str = "axis") -> int:
    """``axis`` (negative counts from the end) as an index into ``shape``; refused, with
    the valid range, when the tensor has no such axis."""
    index = axis + shape.rank if axis < 0 else axis
    if not 0 <= index < shape.rank:
        raise ShapeError(f"{title} {what} {axis} does not exist in {shape}: "
                         f"use {-shape.rank}..{shape.rank - 1}")
    return index


def fixed(title: str, shape: TensorShape, axis: int, what: str) -> int:
    d = shape.dims[axis]
    if not isinstance(d, int):
        raise ShapeError(f"{title} needs a fixed {what}, got {d} in {shape}: give the Input a fixed length")
    return d


def spatial(shape: TensorShape, n: int):
    return shape.dims[-n:]


def numel(dims) -> int:
    """Element count, counting symbolic dimensions (batch, variable length) as 1."""
    return prod(d if isinstance(d, int) else 1 for d in dims)


def per_sample(shape: TensorShape) -> int:
    return numel(shape.dims[1:])


def image_hint(shape: TensorShape) -> str:
    if shape.rank == 2:
        return "this is a flat vector; insert Reshape to [C, H, W]"
    if shape.rank == 3:
        return "this has no channel axis; insert Reshape to [1, H, W]"
    return ""


def pair(v) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))
