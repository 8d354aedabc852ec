"""Worked example of a plugin: a squeeze-and-excitation block (Hu et al., 2018).

A plugin is a module with ``register(registry)``. It declares its layer once, as a
``LayerSpec``: parameters, ports, a shape rule, a cost formula and a builder that returns
a ``Ctor`` (class + keyword arguments). Everything else (palette, inspector, shape
checker, compiler, exporters, code generator) reads that spec. torch is imported only
inside the builder's module, so the editor starts fast.
"""

from __future__ import annotations

import functools

from studio.core.errors import ShapeError
from studio.layers.spec import Cost, Ctor, LayerSpec, Param


def _infer(params, ins):
    x = ins["in"]
    if x.rank != 4 or x.dtype != "float":
        raise ShapeError(f"SqueezeExcite expects images [B, C, H, W], got {x}")
    channels = x.dims[1]
    if channels // params["reduction"] < 1:
        raise ShapeError(f"SqueezeExcite: reduction {params['reduction']} is larger than the {channels} channels")
    return {"out": x}


def _cost(params, ins, outs):
    c = ins["in"].dims[1]
    hidden = c // params["reduction"]
    weights = c * hidden + hidden + hidden * c + c
    pixels = ins["in"].dims[2] * ins["in"].dims[3]
    return Cost(weights, 2 * weights + 2 * c * pixels)


@functools.lru_cache(maxsize=None)
def module_class():
    """The torch module, defined on first use so that loading the plugin stays torch-free."""
    import torch
    from torch import nn

    class SqueezeExcite(nn.Module):
        def __init__(self, channels: int, reduction: int = 4) -> None:
            super().__init__()
            hidden = max(1, channels // reduction)
            self.fc1 = nn.Linear(channels, hidden)
            self.fc2 = nn.Linear(hidden, channels)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            gate = x.mean(dim=(2, 3))
            gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(gate))))
            return x * gate[:, :, None, None]

    return SqueezeExcite


def _build(params, ins):
    return Ctor(module_class(), {"channels": ins["in"].dims[1], "reduction": params["reduction"]})


SQUEEZE_EXCITE = LayerSpec(
    id="SqueezeExcite",
    title="Squeeze-excite",
    category="Attention",
    doc="Reweights image channels by a gate learned from their global average (SE block).",
    params=(Param("reduction", "int", 4, 1, 1024, doc="Channel reduction inside the gate"),),
    infer=_infer,
    cost=_cost,
    build=_build,
    export_notes="ONNX GlobalAveragePool, Gemm, Sigmoid, Mul.",
)


def register(registry) -> None:
    registry.add(SQUEEZE_EXCITE)
