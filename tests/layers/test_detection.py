import torch

from studio.core.analysis import analyze


def _head(graph, channels, classes=3):
    graph.add_node("Input", {"kind": "image", "channels": 1, "height": 16, "width": 16}, node_id="img")
    graph.add_node("Conv2d", {"out_channels": channels, "kernel_size": 1, "padding": 0}, node_id="head")
    graph.add_node("DetectionLoss", {"classes": classes}, node_id="loss")
    graph.connect("img", "out", "head", "in")
    graph.connect("head", "out", "loss", "in")


def test_detection_loss_checks_the_head_channels(graph):
    _head(graph, channels=7, classes=3)
    errors = [str(p) for p in analyze(graph).errors]
    assert any("needs 8 channels" in e and "out_channels" in e for e in errors)


def test_detection_loss_accepts_a_matching_head(graph):
    _head(graph, channels=8, classes=3)
    a = analyze(graph)
    assert not a.errors


def test_decode_boxes_gives_one_box_per_cell(graph):
    _head(graph, channels=8)
    graph.add_node("DecodeBoxes", {"classes": 3}, node_id="boxes")
    graph.add_node("Output", node_id="dets")
    graph.connect("head", "out", "boxes", "in")
    graph.connect("boxes", "out", "dets", "in")
    a = analyze(graph)
    assert a.nodes["boxes"].outputs["out"].dims == ("B", 256, 6)


def test_grid_targets_put_each_box_in_the_cell_of_its_centre():
    from studio.layers.builtin._detection_modules import grid_targets

    boxes = torch.tensor([[[2, 0.30, 0.80, 0.2, 0.1], [-1, -1, -1, -1, -1]],
                          [[0, 0.99, 0.01, 0.1, 0.3], [1, 0.5, 0.5, 0.4, 0.4]]])
    obj, xy, wh, cls = grid_targets(boxes, 4, 4)
    assert obj.sum() == 3
    assert obj[0, 3, 1] == 1 and cls[0, 3, 1] == 2
    assert torch.allclose(xy[0, :, 3, 1], torch.tensor([0.2, 0.2]), atol=1e-5)
    assert torch.allclose(wh[0, :, 3, 1], torch.tensor([0.2, 0.1]))
    assert obj[1, 0, 3] == 1 and cls[1, 0, 3] == 0
    assert obj[1, 2, 2] == 1 and cls[1, 2, 2] == 1
    assert (cls[obj == 0] == -1).all()


def test_detection_loss_is_low_for_the_right_answer():
    from studio.layers.builtin._detection_modules import DetectionLoss, grid_targets

    boxes = torch.tensor([[[1, 0.3, 0.6, 0.25, 0.25], [0, 0.8, 0.2, 0.1, 0.2]]])
    obj, xy, wh, cls = grid_targets(boxes, 4, 4)
    right = torch.zeros(1, 8, 4, 4)
    right[:, 0] = torch.where(obj > 0, 8.0, -8.0)
    right[:, 1:3] = torch.logit(xy.clamp(0.01, 0.99))
    right[:, 3:5] = torch.logit(wh.clamp(0.01, 0.99))
    right[:, 5:] = 8 * torch.nn.functional.one_hot(cls.clamp(min=0), 3).permute(0, 3, 1, 2)
    wrong_class = right.clone()
    wrong_class[:, 5:] = right[:, 5:].roll(1, dims=1)
    loss = DetectionLoss(3)
    assert loss(right, boxes) < loss(wrong_class, boxes) - 5
    assert loss(right, boxes) < loss(torch.zeros_like(right), boxes)


def test_detection_loss_names_a_class_count_mismatch():
    import pytest

    from studio.layers.builtin._detection_modules import DetectionLoss

    boxes = torch.tensor([[[4, 0.5, 0.5, 0.2, 0.2]]])
    with pytest.raises(ValueError, match="3 classes but the data has class id 4: set its classes to 5"):
        DetectionLoss(3)(torch.zeros(1, 8, 4, 4), boxes)
    with pytest.raises(ValueError, match=r"boxes \[B, max_boxes, 5\]"):
        DetectionLoss(3)(torch.zeros(1, 8, 4, 4), torch.zeros(1, 4))
