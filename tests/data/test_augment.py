"""Batch augmentations: shapes and labels kept, each transform does what it says, repeatable."""

from __future__ import annotations

import pytest
import torch

from studio.data import DataError, DatasetInfo, load_data
from studio.data.augment import build_augment

IMAGES = DatasetInfo("img", "classification", inputs={"x": {"kind": "image", "channels": 1, "height": 8, "width": 8}})
AUDIO = DatasetInfo("wav", "classification", inputs={"x": {"kind": "waveform", "length": 64}})
BOXES = DatasetInfo("det", "detection", inputs=IMAGES.inputs, extra={"boxes_field": "boxes"})


def _images(n=16):
    x = torch.zeros(n, 1, 8, 8)
    x[:, :, 2:4, 1:3] = 1.0  # a bright square left of centre
    return {"x": x, "y": torch.arange(n) % 10}


def test_flip_mirrors_every_sample_and_keeps_labels():
    batch = _images()
    out = build_augment({"flip": 1.0}, IMAGES)(batch)
    assert torch.equal(out["x"], batch["x"].flip(-1))
    assert torch.equal(out["y"], batch["y"]) and out["y"] is batch["y"]


def test_flip_true_mirrors_about_half():
    out = build_augment({"flip": True}, IMAGES)(_images(400))["x"]
    flipped = (out[:, 0, 2, 6] == 1).sum().item()
    assert 140 < flipped < 260 and (out[:, 0, 2, 1] == 1).sum().item() == 400 - flipped


def test_shift_moves_content_and_rotation_keeps_shape():
    batch = _images(32)
    out = build_augment({"shift": 0.25, "rotate": 15, "seed": 1}, IMAGES)(batch)
    assert out["x"].shape == batch["x"].shape and out["x"].dtype == batch["x"].dtype
    assert not torch.allclose(out["x"], batch["x"])
    # Different samples got different moves: their centres of mass differ.
    cols = torch.arange(8.0)
    com = (out["x"].sum((1, 2)) * cols).sum(1) / out["x"].sum((1, 2, 3)).clamp_min(1e-6)
    assert com.std() > 0.3


def test_same_seed_same_result_other_seed_differs():
    cfg = {"flip": True, "rotate": 10, "shift": 0.1, "noise": 0.05, "seed": 7}
    a = build_augment(cfg, IMAGES)(_images())["x"]
    b = build_augment(cfg, IMAGES)(_images())["x"]
    c = build_augment({**cfg, "seed": 8}, IMAGES)(_images())["x"]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_noise_has_the_asked_spread():
    x = torch.zeros(64, 1, 8, 8)
    out = build_augment({"noise": 0.2}, IMAGES)({"x": x})["x"]
    assert abs(out.std().item() - 0.2) < 0.02


def test_audio_gain_and_time_shift():
    x = torch.zeros(8, 64)
    x[:, 32] = 0.5  # one click in the middle
    out = build_augment({"time_shift": 0.25, "seed": 3}, AUDIO)({"x": x, "y": torch.zeros(8)})["x"]
    assert out.shape == x.shape
    positions = out.argmax(1)
    assert (out.max(1).values == 0.5).all() and ((positions - 32).abs() <= 16).all() and len(set(positions.tolist())) > 1
    gained = build_augment({"gain": 6}, AUDIO)({"x": x})["x"]
    ratio = gained[:, 32] / 0.5
    assert ((ratio > 0.49) & (ratio < 2.0)).all() and ratio.std() > 0


def test_detection_boxes_follow_the_flip_and_padding_stays():
    boxes = torch.tensor([[[1.0, 0.2, 0.3, 0.1, 0.1], [-1, -1, -1, -1, -1]]]).repeat(4, 1, 1)
    batch = {"x": torch.rand(4, 1, 8, 8), "boxes": boxes}
    out = build_augment({"flip": 1.0}, BOXES)(batch)
    assert torch.allclose(out["boxes"][:, 0, 1], torch.full((4,), 0.8))
    assert torch.equal(out["boxes"][:, 1], boxes[:, 1])
    with pytest.raises(DataError, match="rotate is not offered for detection"):
        build_augment({"rotate": 5}, BOXES)


@pytest.mark.parametrize("config, message", [
    ({"blur": 1}, "unknown augmentation 'blur'"),
    ({"gain": 3}, "'gain' applies to audio; dataset 'img' has none"),
    ({"rotate": "ten"}, r"augment.rotate: 'ten' is not allowed; expected a number in \[0, 180\]"),
    ({"shift": 0.9}, r"augment.shift: 0.9 is not allowed; expected a number in \[0, 0.5\]"),
    ({"seed": 1.5}, "augment.seed: 1.5 is not allowed"),
])
def test_bad_config_is_refused_clearly(config, message):
    with pytest.raises(DataError, match=message):
        build_augment(config, IMAGES)


def test_project_data_section_attaches_the_augmentation():
    split = load_data({"dataset": "digits", "augment": {"flip": 1.0}}, val_split=0.1)
    batch = split.train[:4]
    assert torch.equal(split.augment(batch)["x"], batch["x"].flip(-1))


def test_a_plugin_input_kind_declared_as_an_image_gets_image_augmentations():
    from studio.spec.inputs import InputKind, register_input_kind, unregister_input_kind
    from studio.spec.shapes import BATCH, TensorShape

    register_input_kind(InputKind(
        "thermal", "A thermal camera frame [1, H, W]", ("height", "width"),
        lambda p: TensorShape.of(BATCH, 1, p["height"], p["width"], axes="BCHW"), preview="image"), "test")
    try:
        info = DatasetInfo("cam", "classification", inputs={"x": {"kind": "thermal", "height": 8, "width": 8}})
        batch = _images()
        out = build_augment({"flip": 1.0}, info)(batch)
        assert torch.equal(out["x"], batch["x"].flip(-1))
        unknown = DatasetInfo("x", "classification", inputs={"x": {"kind": "no-such-kind"}})
        with pytest.raises(DataError, match="applies to images"):
            build_augment({"flip": 1.0}, unknown)
    finally:
        unregister_input_kind("thermal")
