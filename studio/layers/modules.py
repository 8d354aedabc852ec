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
