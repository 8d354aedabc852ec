"""Tensor shapes, as the graph model uses them; declared in :mod:`studio.spec.shapes`,
below both the graph model and the layers."""

from studio.spec.shapes import BATCH, Dim, TensorShape, conv_out, conv_transpose_out, dim_same, layout

__all__ = ["BATCH", "Dim", "TensorShape", "conv_out", "conv_transpose_out", "dim_same", "layout"]
