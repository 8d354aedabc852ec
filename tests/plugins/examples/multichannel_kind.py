"""A plugin that adds a kind of input: several signals side by side, [B, channels, samples],
whose length (axis 2, not 1) may vary."""

from __future__ import annotations

from studio.spec.inputs import InputKind
from studio.spec.shapes import BATCH, TensorShape

MULTICHANNEL = InputKind(
    "multichannel", "Several signals side by side [C, S]", ("channels", "length"),
    lambda p: TensorShape.of(BATCH, p["channels"], p["length"] if p["length"] > 0 else "S", axes=("B", "C", "S")),
    length_axis=2, preview="waveform",
)


def register(registry) -> None:
    registry.add_input_kind(MULTICHANNEL)
