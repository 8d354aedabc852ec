"""Small torch modules behind built-in layers that ``torch.nn`` lacks as a module.

The code generator copies these classes' source into exported ``.py`` files, so each
one depends on torch alone and stays short.
"""

from __future__ import annotations

import torch
from torch import nn


class Reshape(nn.Module):
    """Reshape every sample to ``shape`` (the batch axis is kept)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


class Permute(nn.Module):
    """Reorder the non-batch axes; ``order`` counts them from 1."""

    def __init__(self, order: tuple[int, ...]) -> None:
        super().__init__()
        self.order = tuple(order)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, *self.order)


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Multiply(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


class Recurrent(nn.Module):
    """LSTM or GRU, batch first, returning every output a graph may wire.

    Outputs: the full sequence ``[B, T, D*H]``, the last step ``[B, D*H]`` (for a
    bidirectional layer, the final states of both directions), and the final
    hidden (and, for an LSTM, cell) state ``[layers*D, B, H]``.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        cls = nn.LSTM if cell == "lstm" else nn.GRU
        self.cell = cell
        self.bidirectional = bidirectional
        self.rnn = cls(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                       bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, c0: torch.Tensor | None = None):
        if self.cell == "lstm":
            state = None
            if h0 is not None or c0 is not None:
                if h0 is None:
                    h0 = torch.zeros_like(c0)
                if c0 is None:
                    c0 = torch.zeros_like(h0)
                state = (h0, c0)
            seq, (h, c) = self.rnn(x, state)
        else:
            seq, h = self.rnn(x, h0)
            c = h
        last = torch.cat((h[-2], h[-1]), dim=-1) if self.bidirectional else h[-1]
        return seq, last, h, c


class Attention(nn.Module):
    """Multi-head attention, batch first; key and value default to the query (self-attention)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, batch_first=True)

    def forward(self, q: torch.Tensor, k: torch.Tensor | None = None, v: torch.Tensor | None = None):
        k = q if k is None else k
        v = k if v is None else v
        out, _ = self.attn(q, k, v, need_weights=False)
        return out


class Softmax(nn.Module):
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=self.dim)


class Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class CrossEntropy(nn.Module):
    """Cross-entropy with the classes on the last axis; any leading axes are flattened.

    So ``[B, C]`` logits with ``[B]`` labels and ``[B, T, V]`` logits with ``[B, T]``
    labels both work; labels equal to ``ignore_index`` (padding) do not count.
    """

    def __init__(self, ignore_index: int = -100, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), target.reshape(-1).long(),
            ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)


class MSE(nn.Module):
    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(pred, target.reshape(pred.shape).to(pred.dtype))


class BCE(nn.Module):
    """Binary cross-entropy on logits (the sigmoid is part of the loss, for stability)."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(logits, target.reshape(logits.shape).to(logits.dtype))


class Pad(nn.Module):
    """Pad the last axes: ``pads`` is (last_begin, last_end, previous_begin, previous_end, ...)."""

    def __init__(self, pads: tuple[int, ...], mode: str = "constant", value: float = 0.0) -> None:
        super().__init__()
        self.pads, self.mode, self.value = tuple(pads), mode, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "constant":
            return nn.functional.pad(x, self.pads, value=self.value)
        return nn.functional.pad(x, self.pads, mode=self.mode)


class Unary(nn.Module):
    """One element-wise function: abs, exp, log, neg, sqrt, reciprocal, floor or ceil."""

    def __init__(self, fn: str) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(torch, self.fn)(x)


def _arith(op: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / b
    if op == "pow":
        return torch.pow(a, b)
    if op == "min":
        return torch.minimum(a, b)
    return torch.maximum(a, b)


class ConstantOp(nn.Module):
    """``x op value`` (or ``value op x`` when ``reverse``) with a stored tensor that broadcasts."""

    def __init__(self, op: str, shape: tuple[int, ...], reverse: bool = False, learnable: bool = False) -> None:
        super().__init__()
        self.op, self.reverse = op, reverse
        value = torch.zeros(shape)
        if learnable:
            self.value = nn.Parameter(value)
        else:
            self.register_buffer("value", value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _arith(self.op, self.value, x) if self.reverse else _arith(self.op, x, self.value)


class Binary(nn.Module):
    """``a op b`` for two tensors that broadcast against each other."""

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _arith(self.op, a, b)


class Reduce(nn.Module):
    """Mean, sum, max or min over some non-batch axes."""

    def __init__(self, op: str, axes: tuple[int, ...], keepdim: bool = True) -> None:
        super().__init__()
        self.op, self.axes, self.keepdim = op, tuple(axes), keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.op == "mean":
            return x.mean(dim=self.axes, keepdim=self.keepdim)
        if self.op == "sum":
            return x.sum(dim=self.axes, keepdim=self.keepdim)
        if self.op == "max":
            return x.amax(dim=self.axes, keepdim=self.keepdim)
        return x.amin(dim=self.axes, keepdim=self.keepdim)


class Slice(nn.Module):
    """``x[..., start:end:step, ...]`` along one non-batch axis."""

    def __init__(self, axis: int, start: int, end: int, step: int = 1) -> None:
        super().__init__()
        self.axis, self.start, self.end, self.step = axis, start, end, step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.narrow(self.axis, self.start, self.end - self.start)[
            (slice(None),) * self.axis + (slice(None, None, self.step),)]


class Split(nn.Module):
    """Cut one non-batch axis into consecutive parts of the given sizes."""

    def __init__(self, axis: int, sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.axis, self.sizes = axis, tuple(sizes)

    def forward(self, x: torch.Tensor):
        return tuple(torch.split(x, list(self.sizes), dim=self.axis))


class Tile(nn.Module):
    """Repeat the non-batch axes ``repeats`` times each."""

    def __init__(self, repeats: tuple[int, ...]) -> None:
        super().__init__()
        self.repeats = tuple(repeats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat(1, *self.repeats)


class PaddedAvgPool(nn.Module):
    """Average pooling over windows that may reach past the input by different amounts at
    each end, averaging only the values inside (``pads`` as in :class:`Pad`)."""

    def __init__(self, kernel_size: int, stride: int, pads: tuple[int, ...]) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.pads = kernel_size, stride, tuple(pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = nn.functional.avg_pool2d if x.dim() == 4 else nn.functional.avg_pool1d
        total = pool(nn.functional.pad(x, self.pads), self.kernel_size, self.stride)
        count = pool(nn.functional.pad(torch.ones_like(x[:1, :1]), self.pads), self.kernel_size, self.stride)
        return total / count
