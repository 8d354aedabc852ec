"""Detection importer: images/ + labels/ in YOLO format."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from studio.data import DataError, load_data


def _set(root, labels: dict[str, str], size=(16, 12), extra_images=()):
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for name in list(labels) + list(extra_images):
        Image.new("RGB", size, (20, 40, 60)).save(root / "images" / f"{name}.png")
    for name, text in labels.items():
        (root / "labels" / f"{name}.txt").write_text(text)
    return root


def test_boxes_are_padded_with_class_minus_one(tmp_path):
    root = _set(tmp_path / "det", {"a": "0 0.5 0.5 0.2 0.4\n1 0.25 0.75 0.1 0.1\n", "b": "2 0.1 0.2 0.3 0.4\n"},
                extra_images=["empty"])
    (root / "classes.txt").write_text("circle\nsquare\ntriangle\n")
    split = load_data({"dataset": "yolo", "path": str(root), "size": [8, 8]}, val_split=0.0)
    info = split.info
    assert info.task == "detection" and info.classes == ["circle", "square", "triangle"]
    assert info.inputs["x"] == {"kind": "image", "channels": 3, "height": 8, "width": 8}
    assert info.extra["boxes_field"] == "boxes" and info.extra["unlabelled_images"] == 1
    boxes = split.train.fields["boxes"]
    assert boxes.shape == (3, 2, 5) and split.train.fields["x"].shape == (3, 3, 8, 8)
    rows = {tuple(r.tolist()) for b in boxes for r in b}
    assert (0.0, 0.5, 0.5, 0.2, 0.4) in {tuple(round(v, 4) for v in r) for r in rows}
    counts = sorted(int((b[:, 0] >= 0).sum()) for b in boxes)
    assert counts == [0, 1, 2]
    assert (boxes[boxes[:, :, 0] < 0] == -1).all()


def test_bad_label_line_skips_its_image_and_orphan_labels_are_listed(tmp_path):
    root = _set(tmp_path / "det", {"good": "0 0.5 0.5 0.2 0.2\n", "bad": "0 0.5 0.5 0.2\n",
                                   "outside": "\n1 0.5 1.5 0.2 0.2\n", "words": "cat 0.5 0.5 0.2 0.2\n"})
    (root / "labels" / "ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    split = load_data({"dataset": "yolo", "path": str(root), "lazy": True}, val_split=0.0)
    assert len(split.train) == 1 and split.train[0]["boxes"].shape == (1, 5)
    text = "\n".join(split.skipped)
    assert "bad.txt:1: expected 'class cx cy w h', got 4 values" in text
    assert "outside.txt:2:" in text and "words.txt:1:" in text
    assert "ghost.txt: label file with no image" in text
    assert split.info.extra["skipped_count"] == 4


def test_max_boxes_caps_and_says_so(tmp_path):
    root = _set(tmp_path / "det", {"a": "0 0.5 0.5 0.2 0.2\n" * 3, "b": "1 0.3 0.3 0.1 0.1\n"})
    split = load_data({"dataset": "yolo", "path": str(root), "max_boxes": 2}, val_split=0.0)
    assert split.train.fields["boxes"].shape == (2, 2, 5)
    assert any("more than max_boxes 2" in s for s in split.skipped)


def test_missing_images_folder_and_unknown_class_names(tmp_path):
    (tmp_path / "det").mkdir()
    with pytest.raises(DataError, match="images folder .* does not exist"):
        load_data({"dataset": "yolo", "path": str(tmp_path / "det")})
    root = _set(tmp_path / "det2", {"a": "3 0.5 0.5 0.2 0.2\n"})
    with pytest.raises(DataError, match="uses class 3|use class 3"):
        load_data({"dataset": "yolo", "path": str(root), "classes": ["a", "b"]})
    assert torch.is_tensor(load_data({"dataset": "yolo", "path": str(root)}, val_split=0.0).train.fields["boxes"])


def test_class_balance_counts_boxes_without_decoding_lazy_images(tmp_path):
    from studio.data.preview import class_balance

    root = _set(tmp_path / "det", {"a": "0 0.5 0.5 0.2 0.2\n1 0.2 0.2 0.1 0.1\n", "b": "1 0.3 0.3 0.1 0.1\n"})
    split = load_data({"dataset": "yolo", "path": str(root), "lazy": True}, val_split=0.0)
    for img in (root / "images").iterdir():
        img.unlink()  # counting must not need the pixels
    assert class_balance(split) == [("0", 1, 0), ("1", 2, 0)]


def test_ultralytics_layout_with_train_and_val_keeps_its_split(tmp_path):
    root = tmp_path / "det"
    for part, names in (("train", ["a", "b", "c"]), ("val", ["d"])):
        (root / "images" / part).mkdir(parents=True)
        (root / "labels" / part).mkdir(parents=True)
        for n in names:
            Image.new("L", (8, 8), 100).save(root / "images" / part / f"{n}.jpg")
            (root / "labels" / part / f"{n}.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    split = load_data({"dataset": "yolo", "path": str(root)}, val_split=0.5)
    assert split.info.extra["presplit"] and len(split.train) == 3 and len(split.val) == 1
    assert split.info.inputs["x"]["channels"] == 1


def test_class_names_from_data_yaml_in_its_usual_spellings(tmp_path):
    from studio.data.importers.yolo import yaml_names

    assert yaml_names("path: .\nnc: 2\nnames: ['person', \"car\"]  # two\n") == ["person", "car"]
    assert yaml_names("names:\n  0: person\n  1: traffic light\nnc: 2\n") == ["person", "traffic light"]
    assert yaml_names("train: a\nnames:\n  - cat\n  - dog\n") == ["cat", "dog"]
    assert yaml_names("nc: 3\n") is None
    root = _set(tmp_path / "det", {"a": "1 0.5 0.5 0.2 0.2\n"})
    (root / "data.yaml").write_text("names:\n  0: person\n  1: car\n")
    assert load_data({"dataset": "yolo", "path": str(root)}, val_split=0.0).info.classes == ["person", "car"]
