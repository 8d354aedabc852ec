"""Image-folder importer: class folders in, tensors and a clear skipped list out."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from studio.data import DataError, load_data
from studio.data.importers._common import LazyData


def _image(path, value, size=(6, 5), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 0, 255 - value)).save(path)


def _folder(root, per_class=5):
    for c, value in (("cat", 30), ("dog", 200)):
        for i in range(per_class):
            _image(root / c / f"{i}.png", value)
    return root


def test_loads_classes_resizes_and_splits(tmp_path):
    root = _folder(tmp_path / "pets")
    split = load_data({"dataset": "image_folder", "path": str(root), "size": [4, 3]}, seed=1, val_split=0.2)
    assert split.info.classes == ["cat", "dog"]
    assert split.info.inputs["x"] == {"kind": "image", "channels": 1, "height": 4, "width": 3}
    assert len(split.train) == 8 and len(split.val) == 2
    x, y = split.train.fields["x"], split.train.fields["y"]
    assert x.shape == (8, 1, 4, 3) and x.dtype == torch.float32
    # The pixel value follows the class: cat images are dark, dog images bright.
    assert torch.allclose(x[y == 0], torch.full_like(x[y == 0], 30 / 255), atol=1e-6)
    assert torch.allclose(x[y == 1], torch.full_like(x[y == 1], 200 / 255), atol=1e-6)
    assert split.skipped == []


def test_same_seed_same_split_other_seed_other_split(tmp_path):
    root = _folder(tmp_path / "pets", per_class=10)
    cfg = {"dataset": "image_folder", "path": str(root)}
    a, b, c = load_data(cfg, seed=3), load_data(cfg, seed=3), load_data(cfg, seed=4)
    assert torch.equal(a.val.fields["x"], b.val.fields["x"]) and torch.equal(a.val.fields["y"], b.val.fields["y"])
    assert not torch.equal(a.val.fields["y"], c.val.fields["y"]) or not torch.equal(a.train.fields["y"], c.train.fields["y"])


def test_colour_images_give_three_channels(tmp_path):
    _image(tmp_path / "a" / "0.jpg", 10, mode="RGB")
    _image(tmp_path / "b" / "0.png", 250, mode="RGB")
    split = load_data({"dataset": "image_folder", "path": str(tmp_path)}, val_split=0.0)
    assert split.info.inputs["x"]["channels"] == 3
    assert split.train.fields["x"].shape[1:] == (3, 5, 6)


def test_missing_folder_names_it(tmp_path):
    with pytest.raises(DataError, match="does not exist") as err:
        load_data({"dataset": "image_folder", "path": str(tmp_path / "nope")})
    assert "nope" in str(err.value)


def test_folder_without_class_subfolders(tmp_path):
    _image(tmp_path / "loose.png", 5)
    with pytest.raises(DataError, match="one subfolder per class"):
        load_data({"dataset": "image_folder", "path": str(tmp_path)})


def test_unreadable_image_is_skipped_and_rest_loads(tmp_path):
    root = _folder(tmp_path / "pets", per_class=3)
    (root / "cat" / "broken.png").write_bytes(b"not a png at all")
    truncated = root / "dog" / "truncated.png"
    data = (root / "dog" / "0.png").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    (root / "empty_class").mkdir()
    split = load_data({"dataset": "image_folder", "path": str(root)}, val_split=0.0)
    assert len(split.train) == 6
    text = "\n".join(split.skipped)
    assert "broken.png" in text and "truncated.png" in text and "empty_class" in text
    assert split.info.extra["skipped_count"] == len(split.skipped) == 3
    assert split.info.classes == ["cat", "dog"]


def test_lazy_loading_reads_items_on_demand_with_a_bounded_cache(tmp_path):
    root = _folder(tmp_path / "pets", per_class=4)
    eager = load_data({"dataset": "image_folder", "path": str(root), "lazy": False}, seed=2)
    lazy = load_data({"dataset": "image_folder", "path": str(root), "lazy": True}, seed=2)
    assert isinstance(lazy.train, LazyData) and lazy.info.extra["lazy"] is True
    assert len(lazy.train) == len(eager.train)
    for i in range(len(eager.val)):
        assert torch.equal(lazy.val[i]["x"], eager.val[i]["x"]) and int(lazy.val[i]["y"]) == int(eager.val[i]["y"])
    small = LazyData(lazy.train.items, lazy.train.decode, cache_bytes=2 * (4 * 30 + 8))  # two samples: 30 floats and a label
    for i in range(len(small)):
        small[i]
    assert len(small._cache) == 2
    batch = next(iter(torch.utils.data.DataLoader(lazy.train, batch_size=3)))
    assert batch["x"].shape == (3, 1, 5, 6) and batch["y"].shape == (3,)


def test_lazy_item_that_breaks_later_names_the_file(tmp_path):
    root = _folder(tmp_path / "pets", per_class=2)
    split = load_data({"dataset": "image_folder", "path": str(root), "lazy": True}, val_split=0.0)
    victim = split.train.items[0][0]
    victim.write_bytes(victim.read_bytes()[:40])
    with pytest.raises(DataError, match=victim.name):
        split.train[0]


def test_bad_size_option(tmp_path):
    root = _folder(tmp_path / "pets", per_class=1)
    with pytest.raises(DataError, match="size"):
        load_data({"dataset": "image_folder", "path": str(root), "size": [0, "a"]})


def test_auto_reads_lazily_only_above_the_memory_limit(tmp_path, monkeypatch):
    from studio.data.importers import _common

    root = _folder(tmp_path / "pets", per_class=3)
    cfg = {"dataset": "image_folder", "path": str(root)}
    assert not isinstance(load_data(cfg).train, LazyData)
    monkeypatch.setattr(_common, "MEMORY_LIMIT_MB", 6 * 30 * 4 / 2**20 - 1e-9)  # one float short of the set
    assert isinstance(load_data(cfg).train, LazyData)


def test_numbered_class_folders_are_in_numeric_order(tmp_path):
    for i, name in enumerate(["10", "2", "1"]):
        _image(tmp_path / name / "a.png", 20 * i)
    split = load_data({"dataset": "image_folder", "path": str(tmp_path)}, val_split=0.0)
    assert split.info.classes == ["1", "2", "10"]


def test_sixteen_bit_images_keep_their_range(tmp_path):
    import numpy as np

    for name, level in (("low", 1000), ("high", 60000)):
        (tmp_path / name).mkdir()
        Image.fromarray(np.full((4, 4), level, dtype=np.uint16)).save(tmp_path / name / "scan.png")
    split = load_data({"dataset": "image_folder", "path": str(tmp_path)}, val_split=0.0)
    x, y = split.train.fields["x"], split.train.fields["y"]
    assert split.info.inputs["x"]["channels"] == 1
    assert torch.allclose(x[y == 0], torch.full((1, 1, 4, 4), 60000 / 65535), atol=1e-4)  # "high" sorts first
    assert torch.allclose(x[y == 1], torch.full((1, 1, 4, 4), 1000 / 65535), atol=1e-4)


def test_large_jpeg_photos_are_read_small_and_upright(tmp_path):
    from PIL import Image as PILImage

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        photo = PILImage.new("RGB", (800, 400), (250, 250, 250))
        photo.paste((0, 0, 0), (0, 0, 400, 400))  # left half dark
        exif = PILImage.Exif()
        exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
        photo.save(tmp_path / name / "photo.jpg", exif=exif, quality=95)
    split = load_data({"dataset": "image_folder", "path": str(tmp_path), "size": [16, 8]}, val_split=0.0)
    x = split.train.fields["x"][0]
    assert x.shape == (3, 16, 8)
    # Upright, the dark half is on top (a 400x800 portrait).
    assert x[:, :6].mean() < 0.2 and x[:, 10:].mean() > 0.8


def test_a_folder_split_already_keeps_its_split(tmp_path):
    for part, n in (("train", 4), ("val", 2)):
        for c, value in (("cat", 30), ("dog", 200)):
            for i in range(n):
                _image(tmp_path / part / c / f"{i}.png", value)
    _image(tmp_path / "val" / "bird" / "0.png", 90)
    _image(tmp_path / "test" / "cat" / "0.png", 30)
    (tmp_path / "train" / "cat" / "bad.png").write_text("?")
    for lazy in (False, True):
        split = load_data({"dataset": "image_folder", "path": str(tmp_path), "lazy": lazy}, seed=5, val_split=0.5)
        assert split.info.classes == ["cat", "dog"] and split.info.extra["presplit"]
        assert len(split.train) == 8 and len(split.val) == 4
        if not lazy:
            assert sorted(split.val.fields["y"].tolist()) == [0, 0, 1, 1]
        else:
            assert all("/val/" in str(p) for p, _ in split.val.items)
        text = "\n".join(split.skipped)
        assert "bird: class 'bird' has no training examples" in text and "test: not used" in text
        assert "bad.png" in text
