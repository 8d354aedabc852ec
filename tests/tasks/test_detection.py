import pytest
import torch

from studio.tasks.detection import MeanAP, average_precision, box_iou, detect, mean_ap, nms


def test_box_iou_on_known_boxes():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
    assert box_iou(a, b)[0].tolist() == pytest.approx([1 / 7, 1.0, 0.0])


def test_nms_drops_overlapping_boxes_of_one_class_only():
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.05, 0.0, 1.0, 1.0], [0.0, 0.0, 0.95, 1.0], [3.0, 3.0, 4.0, 4.0]])
    scores = torch.tensor([0.6, 0.9, 0.5, 0.4])
    assert nms(boxes, scores, 0.5).tolist() == [1, 3]
    classes = torch.tensor([0, 0, 1, 0])
    assert nms(boxes, scores, 0.5, classes).tolist() == [1, 2, 3]
    assert nms(boxes, scores, 0.99).tolist() == [1, 0, 2, 3]


def test_average_precision_by_hand():
    # ranked: TP, FP, TP with 2 truths -> precision 1 at recall .5, 2/3 at recall 1
    ap = average_precision(torch.tensor([0.9, 0.8, 0.7]), torch.tensor([True, False, True]), 2)
    assert ap == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert average_precision(torch.tensor([]), torch.tensor([], dtype=torch.bool), 3) == 0.0


def test_mean_ap_on_known_boxes():
    truth = [torch.tensor([[0, 0.1, 0.1, 0.3, 0.3], [1, 0.5, 0.5, 0.9, 0.9]])]
    perfect = [torch.tensor([[0.9, 0, 0.1, 0.1, 0.3, 0.3], [0.8, 1, 0.5, 0.5, 0.9, 0.9]])]
    assert mean_ap(perfect, truth) == pytest.approx(1.0)
    # class 1's box is off by more than IoU 0.5, class 0 is found: mAP 0.5
    shifted = [torch.tensor([[0.9, 0, 0.1, 0.1, 0.3, 0.3], [0.8, 1, 0.7, 0.7, 1.0, 1.0]])]
    assert mean_ap(shifted, truth) == pytest.approx(0.5)
    # the right box with the wrong class counts for nothing
    wrong = [torch.tensor([[0.9, 1, 0.1, 0.1, 0.3, 0.3], [0.8, 1, 0.5, 0.5, 0.9, 0.9]])]
    assert mean_ap(wrong, truth) == pytest.approx(0.5 * (0 + 0.5))
    # two detections of one box: the second is a false positive ranked below the true one
    twice = [torch.tensor([[0.9, 0, 0.1, 0.1, 0.3, 0.3], [0.5, 0, 0.1, 0.1, 0.31, 0.3],
                           [0.8, 1, 0.5, 0.5, 0.9, 0.9]])]
    assert mean_ap(twice, truth) == pytest.approx(1.0)


def _grid_for(boxes, rows=4, cols=4, classes=3):
    from studio.layers.builtin._detection_modules import grid_targets

    obj, xy, wh, cls = grid_targets(boxes, rows, cols)
    pred = torch.zeros(boxes.shape[0], 5 + classes, rows, cols)
    pred[:, 0] = torch.where(obj > 0, 6.0, -6.0)
    pred[:, 1:3] = torch.logit(xy.clamp(1e-4, 1 - 1e-4))
    pred[:, 3:5] = torch.logit(wh.clamp(1e-4, 1 - 1e-4))
    pred[:, 5:] = 6 * torch.nn.functional.one_hot(cls.clamp(min=0), classes).permute(0, 3, 1, 2)
    return pred


def test_detect_decodes_the_grid_back_to_the_boxes():
    boxes = torch.tensor([[[2, 0.3, 0.6, 0.2, 0.3], [0, 0.8, 0.2, 0.1, 0.1], [-1, -1, -1, -1, -1]]])
    dets = detect(_grid_for(boxes), score_threshold=0.5)[0]
    assert len(dets) == 2
    got = sorted(dets[:, 1:].tolist())
    assert got[0] == pytest.approx([0, 0.75, 0.15, 0.85, 0.25], abs=1e-3)
    assert got[1] == pytest.approx([2, 0.2, 0.45, 0.4, 0.75], abs=1e-3)


def test_map50_metric_accumulates_over_batches():
    boxes = torch.tensor([[[1, 0.3, 0.6, 0.2, 0.3]], [[0, 0.7, 0.3, 0.2, 0.2]]])
    metric = MeanAP()
    metric.update(_grid_for(boxes[:1]), boxes[:1])
    missed = _grid_for(boxes[1:])
    missed[:, 0] = -6.0  # nothing found in the second image
    metric.update(missed, boxes[1:])
    assert metric.compute() == pytest.approx(0.5)
    metric.reset()
    metric.update(_grid_for(boxes), boxes)
    assert metric.compute() == pytest.approx(1.0)


def test_map50_is_registered_for_the_trainer():
    from studio.training.metrics import create_metric

    assert isinstance(create_metric("map50", {"target": "boxes"}), MeanAP)
    assert create_metric("greedy_exact_match", {"target": "tgt_out", "ignore_index": 0}).ignore_index == 0
