"""Torch modules behind the detection layers (imported by their builders only).

A grid head predicts, for each cell of an ``S_h x S_w`` grid, ``5 + classes`` channels:
an objectness logit, the box centre within the cell (two logits, sigmoid -> [0, 1]), the
box size as a fraction of the image (two logits, sigmoid), and class scores. Each
labelled box belongs to the cell holding its centre (YOLO's rule).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def grid_targets(boxes: torch.Tensor, rows: int, cols: int):
    """Scatter ``[B, M, 5]`` boxes (class, cx, cy, w, h; class -1 = none) onto the grid.

    Returns ``obj [B, rows, cols]`` (0/1), ``xy [B, 2, rows, cols]`` (centre within the
    cell), ``wh [B, 2, rows, cols]`` and ``cls [B, rows, cols]`` (-1 where empty). A later
    box in the same cell overwrites an earlier one.
    """
    b, m, _ = boxes.shape
    real = boxes[..., 0] >= 0
    gx = (boxes[..., 1] * cols).clamp(0, cols - 1e-4)
    gy = (boxes[..., 2] * rows).clamp(0, rows - 1e-4)
    col, row = gx.long(), gy.long()
    flat = (torch.arange(b, device=boxes.device)[:, None] * rows * cols + row * cols + col)[real]
    obj = torch.zeros(b * rows * cols, device=boxes.device)
    obj[flat] = 1.0
    cls = torch.full((b * rows * cols,), -1, dtype=torch.long, device=boxes.device)
    cls[flat] = boxes[..., 0][real].long()
    xy = torch.zeros(b * rows * cols, 2, device=boxes.device)
    xy[flat] = torch.stack([gx - col, gy - row], -1)[real]
    wh = torch.zeros(b * rows * cols, 2, device=boxes.device)
    wh[flat] = boxes[..., 3:5][real]

    def grid(t):
        return t.view(b, rows, cols, -1).permute(0, 3, 1, 2) if t.dim() == 2 else t.view(b, rows, cols)

    return grid(obj), grid(xy), grid(wh), grid(cls)


class DetectionLoss(nn.Module):
    """YOLO-style loss on a grid head's raw output ``[B, 5 + classes, S_h, S_w]``.

    Objectness is binary cross-entropy on every cell (empty cells weighted by
    ``noobj_weight``); the centre (cross-entropy on its offset in the cell), the size
    (L1 on square roots, so small boxes count) and the class count only where an object is.
    """

    def __init__(self, classes: int, box_weight: float = 5.0, noobj_weight: float = 0.5) -> None:
        super().__init__()
        self.classes = classes
        self.box_weight = box_weight
        self.noobj_weight = noobj_weight
        self._checked = False

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if not self._checked:  # once: a per-batch check would sync the device every step
            if target.dim() != 3 or target.shape[-1] != 5:
                raise ValueError(f"DetectionLoss expects boxes [B, max_boxes, 5] (class, cx, cy, w, h), "
                                 f"got {list(target.shape)}")
            top = int(target[..., 0].max()) if target.numel() else -1
            if top >= self.classes:
                raise ValueError(f"DetectionLoss has {self.classes} classes but the data has class id {top}: "
                                 f"set its classes to {top + 1} (and the head's out_channels to {top + 6})")
            self._checked = True
        rows, cols = pred.shape[-2:]
        obj, xy, wh, cls = grid_targets(target.to(pred.dtype), rows, cols)
        pos = obj > 0
        n = pos.sum().clamp(min=1)
        weight = torch.where(pos, torch.ones_like(obj), torch.full_like(obj, self.noobj_weight))
        loss_obj = (F.binary_cross_entropy_with_logits(pred[:, 0], obj, reduction="none") * weight).sum() / n
        mask = pos[:, None].expand_as(xy)
        loss_xy = F.binary_cross_entropy_with_logits(pred[:, 1:3][mask], xy[mask], reduction="sum") / n
        loss_wh = (torch.sqrt(torch.sigmoid(pred[:, 3:5][mask])) - torch.sqrt(wh[mask])).abs().sum() / n
        logits = pred[:, 5:].permute(0, 2, 3, 1)[pos]
        loss_cls = F.cross_entropy(logits, cls[pos], reduction="sum") / n
        return loss_obj + self.box_weight * (loss_xy + loss_wh) + loss_cls


class DecodeBoxes(nn.Module):
    """Grid output ``[B, 5 + classes, S_h, S_w]`` to one candidate per cell,
    ``[B, S_h * S_w, 6]`` rows ``(score, class, x1, y1, x2, y2)`` with corners as
    fractions of the image; filtering and NMS come after (``studio.tasks.detection``)."""

    def forward(self, pred: torch.Tensor) -> torch.Tensor:
        b, _, rows, cols = pred.shape
        ys = torch.arange(rows, device=pred.device, dtype=pred.dtype).view(1, rows, 1)
        xs = torch.arange(cols, device=pred.device, dtype=pred.dtype).view(1, 1, cols)
        cx = (xs + torch.sigmoid(pred[:, 1])) / cols
        cy = (ys + torch.sigmoid(pred[:, 2])) / rows
        w, h = torch.sigmoid(pred[:, 3]), torch.sigmoid(pred[:, 4])
        probs = torch.softmax(pred[:, 5:], dim=1)
        best, label = probs.max(dim=1)
        score = torch.sigmoid(pred[:, 0]) * best
        out = torch.stack([score, label.to(pred.dtype), cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)
        return out.reshape(b, rows * cols, 6)
