"""Augmentations applied to each training batch on the device, vectorised over the batch.

The trainer calls the function :func:`build_augment` returns with a batch dict already on
the device; every sample gets its own random draw, but no Python loop runs per sample
(the trainer runs in a thread beside the UI). The keys are declared as Params in
:data:`studio.data.registry.AUGMENTATIONS`, for the data's input kind:

images (``kind: image``):
  ``flip``    a probability (true: half the samples): mirror left-right
  ``rotate``  degrees: a random angle in [-rotate, rotate]
  ``shift``   fraction of the size: a random move in [-shift, shift] on each axis
  ``noise``   standard deviation of added Gaussian noise
audio (``kind: waveform``):
  ``gain``        decibels: a random gain in [-gain, gain]
  ``time_shift``  fraction of the length: a random delay or advance, zero-filled
  ``noise``       standard deviation of added Gaussian noise
and ``seed`` (default 0) for a repeatable sequence of draws.

With detection boxes (``info.extra["boxes_field"]``), flip and shift move the boxes too;
rotation is refused there because rotated boxes no longer fit their objects.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from studio.data.base import DataError, DatasetInfo
from studio.data.registry import validate_augment
from studio.spec.inputs import sample_form

class Augment:
    """The callable the trainer applies; ``fields`` maps each augmented field to its form
    (the ``preview`` its input kind declares: "image" or "waveform")."""

    def __init__(self, options: dict[str, float], fields: dict[str, str], boxes_field: str | None, seed: int) -> None:
        self.options = options
        self.fields = fields
        self.boxes_field = boxes_field
        self.seed = seed
        self._generators: dict[str, torch.Generator] = {}

    def __repr__(self) -> str:
        return f"Augment({self.options}, fields={self.fields})"

    def _gen(self, device: torch.device) -> torch.Generator:
        key = str(device)
        if key not in self._generators:
            self._generators[key] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[key]

    def _rand(self, n: int, ref: torch.Tensor, low: float, high: float) -> torch.Tensor:
        u = torch.rand(n, generator=self._gen(ref.device), device=ref.device, dtype=ref.dtype)
        return low + (high - low) * u

    def __call__(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = dict(batch)
        with torch.no_grad():
            for name, kind in self.fields.items():
                if name not in out:
                    continue
                if kind == "image":
                    out[name], boxes = self._image(out[name], out.get(self.boxes_field) if self.boxes_field else None)
                    if boxes is not None:
                        out[self.boxes_field] = boxes
                else:
                    out[name] = self._audio(out[name])
        return out

    def _image(self, x: torch.Tensor, boxes: torch.Tensor | None):
        o, n = self.options, x.shape[0]
        if o.get("flip", 0) > 0:
            flip = self._rand(n, x, 0, 1) < o["flip"]
            x = torch.where(flip.view(-1, *([1] * (x.dim() - 1))), x.flip(-1), x)
            if boxes is not None:
                real = boxes[..., 0] >= 0
                mirrored = torch.where(flip.view(-1, 1) & real, 1 - boxes[..., 1], boxes[..., 1])
                boxes = torch.cat([boxes[..., :1], mirrored.unsqueeze(-1), boxes[..., 2:]], -1)
        angle_deg, shift = o.get("rotate", 0), o.get("shift", 0)
        if angle_deg > 0 or shift > 0:
            angle = self._rand(n, x, -angle_deg, angle_deg) * (math.pi / 180)
            # affine_grid works in [-1, 1] coordinates: a shift of s of the size is 2s there.
            tx = self._rand(n, x, -shift, shift) * 2
            ty = self._rand(n, x, -shift, shift) * 2
            cos, sin = torch.cos(angle), torch.sin(angle)
            # The grid maps output pixels to input pixels, so the content moves by +t.
            theta = torch.stack([torch.stack([cos, -sin, -tx], 1), torch.stack([sin, cos, -ty], 1)], 1)
            grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
            x = torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
            if boxes is not None:
                real = boxes[..., 0] >= 0
                cx = torch.where(real, boxes[..., 1] + tx.view(-1, 1) / 2, boxes[..., 1])
                cy = torch.where(real, boxes[..., 2] + ty.view(-1, 1) / 2, boxes[..., 2])
                boxes = torch.cat([boxes[..., :1], cx.unsqueeze(-1), cy.unsqueeze(-1), boxes[..., 3:]], -1)
                boxes = self._drop_outside(boxes)
        if o.get("noise", 0) > 0:
            x = x + o["noise"] * torch.randn(x.shape, generator=self._gen(x.device), device=x.device, dtype=x.dtype)
        return x, boxes

    @staticmethod
    def _drop_outside(boxes: torch.Tensor) -> torch.Tensor:
        """A box whose centre left the image is no longer an object: mark it as padding."""
        real = boxes[..., 0] >= 0
        inside = (boxes[..., 1] >= 0) & (boxes[..., 1] <= 1) & (boxes[..., 2] >= 0) & (boxes[..., 2] <= 1)
        return torch.where((real & ~inside).unsqueeze(-1), torch.full_like(boxes, -1.0), boxes)

    def _audio(self, x: torch.Tensor) -> torch.Tensor:
        o, n = self.options, x.shape[0]
        view = (-1,) + (1,) * (x.dim() - 1)
        if o.get("gain", 0) > 0:
            db = self._rand(n, x, -o["gain"], o["gain"])
            x = x * torch.pow(10.0, db / 20).view(view)
        if o.get("time_shift", 0) > 0:
            length = x.shape[1]
            shift = torch.round(self._rand(n, x, -o["time_shift"], o["time_shift"]) * length).long()
            src = torch.arange(length, device=x.device).unsqueeze(0) - shift.unsqueeze(1)  # [B, S]
            valid = (src >= 0) & (src < length)
            idx = src.clamp(0, length - 1)
            if x.dim() > 2:
                idx = idx.view(n, length, *([1] * (x.dim() - 2))).expand_as(x)
                valid = valid.view(n, length, *([1] * (x.dim() - 2)))
            x = torch.gather(x, 1, idx) * valid
        if o.get("noise", 0) > 0:
            x = x + o["noise"] * torch.randn(x.shape, generator=self._gen(x.device), device=x.device, dtype=x.dtype)
        return x


def build_augment(config: dict[str, Any], info: DatasetInfo) -> Callable[[dict], dict]:
    """The batch function for ``config`` on the data ``info`` describes; a key that does not
    apply to this data raises :class:`DataError` saying which keys do."""
    forms = {name: sample_form(spec.get("kind")) for name, spec in info.inputs.items()}
    fields = {name: form for name, form in forms.items() if form in ("image", "waveform")}
    options = validate_augment(config, set(fields.values()), info.name)
    seed = options.pop("seed", 0)
    boxes_field = info.extra.get("boxes_field")
    if boxes_field and options.get("rotate", 0) > 0:
        raise DataError("augmentation rotate is not offered for detection data: rotated boxes would no "
                        "longer fit their objects (use flip and shift)")
    return Augment(options, fields, boxes_field, seed)
