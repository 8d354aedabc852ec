"""Detection after the network: decoding a grid head, non-maximum suppression and mAP.

All in torch; no torchvision (it does not import beside the torch build the app uses).
Boxes here are ``(x1, y1, x2, y2)`` corners as fractions of the image.
"""

from __future__ import annotations

import torch


def cxcywh_to_xyxy(b: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = b.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every box in ``a [N, 4]`` with every box in ``b [M, 4]``: ``[N, M]``."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=1e-12)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float = 0.5,
        classes: torch.Tensor | None = None) -> torch.Tensor:
    """Indices of the boxes kept, best first: a box is dropped when it overlaps a better
    kept box by more than ``iou_threshold``. With ``classes``, only boxes of the same class
    suppress each other."""
    order = scores.argsort(descending=True)
    boxes = boxes[order]
    iou = box_iou(boxes, boxes)
    if classes is not None:
        c = classes[order]
        iou = iou * (c[:, None] == c[None, :])
    suppress = (iou > iou_threshold).triu(diagonal=1)
    keep = torch.ones(len(order), dtype=torch.bool, device=boxes.device)
    for i in range(len(order)):  # few candidates per image after the score threshold
        if keep[i]:
            keep &= ~suppress[i]
    return order[keep]


def decode_grid(pred: torch.Tensor) -> torch.Tensor:
    """``[B, 5 + classes, rows, cols]`` -> ``[B, rows * cols, 6]`` (score, class, x1, y1, x2, y2)."""
    from studio.layers.builtin._detection_modules import DecodeBoxes

    return DecodeBoxes()(pred)


def detect(pred: torch.Tensor, score_threshold: float = 0.05, iou_threshold: float = 0.5,
           max_detections: int = 100) -> list[torch.Tensor]:
    """Final detections per image, each ``[K, 6]`` (score, class, x1, y1, x2, y2), best first."""
    out = []
    for cand in decode_grid(pred.detach().float()):
        cand = cand[cand[:, 0] > score_threshold]
        keep = nms(cand[:, 2:], cand[:, 0], iou_threshold, cand[:, 1].long())[:max_detections]
        out.append(cand[keep])
    return out


def average_precision(scores: torch.Tensor, matched: torch.Tensor, n_truth: int) -> float:
    """Area under the precision-recall curve (every point, precision made monotone), as in
    Pascal VOC from 2010 and COCO's per-threshold AP."""
    if n_truth == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    order = scores.argsort(descending=True)
    tp = matched[order].double().cumsum(0)
    fp = (~matched[order]).double().cumsum(0)
    recall = torch.cat([torch.zeros(1, dtype=torch.float64), tp / n_truth])
    precision = torch.cat([torch.ones(1, dtype=torch.float64), tp / (tp + fp)])
    precision = torch.flip(torch.cummax(torch.flip(precision, [0]), 0).values, [0])
    return float(((recall[1:] - recall[:-1]) * precision[1:]).sum())


def match_class(detections: list[torch.Tensor], truths: list[torch.Tensor], c: int,
                iou_threshold: float = 0.5) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Class ``c``'s detections over all images: their scores, whether each matched a true
    box at ``iou_threshold``, and the number of true boxes. Each true box matches at most
    one detection, the best-scored first."""
    scores, matched, n_truth = [], [], 0
    for det, gt in zip(detections, truths):
        d = det[det[:, 1] == c]
        g = gt[gt[:, 0] == c, 1:]
        n_truth += len(g)
        d = d[d[:, 0].argsort(descending=True)]
        hit = torch.zeros(len(d), dtype=torch.bool)
        if len(d) and len(g):
            iou = box_iou(d[:, 2:], g)
            taken = torch.zeros(len(g), dtype=torch.bool)
            for i in range(len(d)):
                iou_i = torch.where(taken, torch.full_like(iou[i], -1.0), iou[i])
                j = int(iou_i.argmax())
                if iou_i[j] >= iou_threshold:
                    hit[i], taken[j] = True, True
        scores.append(d[:, 0])
        matched.append(hit)
    if not scores:
        return torch.zeros(0), torch.zeros(0, dtype=torch.bool), 0
    return torch.cat(scores), torch.cat(matched), n_truth


def mean_ap(detections: list[torch.Tensor], truths: list[torch.Tensor], iou_threshold: float = 0.5) -> float:
    """mAP over classes present in ``truths``. ``detections[i]``: ``[K, 6]`` rows (score,
    class, x1, y1, x2, y2); ``truths[i]``: ``[M, 5]`` rows (class, x1, y1, x2, y2)."""
    classes = sorted({int(c) for t in truths for c in t[:, 0].tolist()})
    if not classes:
        return float("nan")
    aps = [average_precision(*match_class(detections, truths, c, iou_threshold)) for c in classes]
    return sum(aps) / len(aps)


def truth_boxes(target: torch.Tensor) -> list[torch.Tensor]:
    """``[B, M, 5]`` (class, cx, cy, w, h; class -1 = none) -> per image ``[m, 5]`` (class, x1, y1, x2, y2)."""
    out = []
    for t in target.detach().float().cpu():
        t = t[t[:, 0] >= 0]
        out.append(torch.cat([t[:, :1], cxcywh_to_xyxy(t[:, 1:5])], dim=1))
    return out


class MeanAP:
    """Metric ``map50``: mean average precision at IoU 0.5 over the validation set,
    after decoding the grid head and NMS."""

    def __init__(self, iou_threshold: float = 0.5, score_threshold: float = 0.01) -> None:
        self.iou_threshold = iou_threshold
        self.score_threshold = score_threshold
        self.reset()

    def reset(self) -> None:
        self.detections: list[torch.Tensor] = []
        self.truths: list[torch.Tensor] = []

    def update(self, pred: torch.Tensor, target: torch.Tensor, *, model=None, batch=None) -> None:
        self.detections += [d.cpu() for d in detect(pred, self.score_threshold, 0.5)]
        self.truths += truth_boxes(target)

    def compute(self) -> float:
        return mean_ap(self.detections, self.truths, self.iou_threshold)
