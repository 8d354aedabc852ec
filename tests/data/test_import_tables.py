"""CSV and NumPy importers: numbers in, fields out; bad rows named by file and line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.data import DataError, load_data


def _csv(tmp_path, text, name="table.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_csv_class_names_with_header(tmp_path):
    path = _csv(tmp_path, "a,b,kind\n1,2,red\n3,4,blue\n5,6,red\n7,8,blue\n")
    split = load_data({"dataset": "csv", "path": path, "standardize": False}, val_split=0.0)
    assert split.info.task == "classification" and split.info.classes == ["blue", "red"]
    assert split.info.inputs["x"] == {"kind": "vector", "features": 2}
    x, y = split.train.fields["x"], split.train.fields["y"]
    by_first = {float(r[0]): int(c) for r, c in zip(x, y)}
    assert by_first == {1.0: 1, 3.0: 0, 5.0: 1, 7.0: 0}
    assert split.info.extra["feature_names"] == ["a", "b"]


def test_csv_numeric_regression_and_label_column_by_name(tmp_path):
    rows = "\n".join(f"{i * 0.5},{i},{i * 1.5 + 0.25}" for i in range(20))
    path = _csv(tmp_path, "price,x1,x2\n" + rows + "\n")
    split = load_data({"dataset": "csv", "path": path, "label": "price"}, val_split=0.25)
    assert split.info.task == "regression" and split.info.classes is None
    assert split.train.fields["y"].shape == (15, 1) and split.train.fields["y"].dtype == torch.float32
    # Standardised on the training rows: mean 0, spread 1.
    assert torch.allclose(split.train.fields["x"].mean(0), torch.zeros(2), atol=1e-5)
    assert len(split.info.extra["feature_mean"]) == 2


def test_csv_without_header_semicolons_whole_number_classes(tmp_path):
    path = _csv(tmp_path, "".join(f"{i};{i % 3}\n" for i in range(30)))
    split = load_data({"dataset": "csv", "path": path, "standardize": False}, val_split=0.0)
    assert split.info.task == "classification" and split.info.classes == ["0", "1", "2"]
    assert split.train.fields["x"].shape == (30, 1)


def test_csv_ragged_and_non_numeric_rows_are_skipped_with_line_numbers(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,2,0\n3,4\n5,x,1\n7,8,1\n9,10,0,11\n")
    split = load_data({"dataset": "csv", "path": path}, val_split=0.0)
    assert len(split.train) == 2
    assert len(split.skipped) == 3
    assert any("table.csv:3:" in s and "2 cells" in s for s in split.skipped)
    assert any("table.csv:4:" in s and "'x' is not a number" in s for s in split.skipped)
    assert any("table.csv:6:" in s for s in split.skipped)


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("a,b,y\n", "no data rows"),
    ("a,b,y\n1,2,\n", "no usable rows"),
])
def test_csv_unusable_files(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load_data({"dataset": "csv", "path": _csv(tmp_path, text)})


def test_csv_unknown_label_column_lists_columns(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match="no column named 'price'; columns: a, b, y"):
        load_data({"dataset": "csv", "path": path, "label": "price"})


def test_csv_binary_file_is_refused_by_name(tmp_path):
    p = tmp_path / "photo.csv"
    p.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x80\x81")
    with pytest.raises(DataError, match="photo.csv: not UTF-8"):
        load_data({"dataset": "csv", "path": str(p)})


def test_npz_images_and_classes(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, size=(12, 7, 9), dtype=np.uint8)
    y = np.arange(12) % 4
    np.savez(tmp_path / "d.npz", x=x, y=y)
    split = load_data({"dataset": "npz", "path": str(tmp_path / "d.npz")}, val_split=0.25, seed=5)
    assert split.info.inputs["x"] == {"kind": "image", "channels": 1, "height": 7, "width": 9}
    assert split.info.classes == ["0", "1", "2", "3"]
    assert len(split.train) == 9 and len(split.val) == 3
    xs = torch.cat([split.train.fields["x"], split.val.fields["x"]])
    assert xs.max() <= 1.0 and xs.shape[1:] == (1, 7, 9)
    # Each sample still carries its own label.
    ys = torch.cat([split.train.fields["y"], split.val.fields["y"]])
    original = {tuple((x[i].astype(np.float32) / 255).ravel().round(4)): int(y[i]) for i in range(12)}
    for xi, yi in zip(xs, ys):
        assert original[tuple(xi.numpy().ravel().round(4))] == int(yi)


def test_npz_regression_sequences_and_nan_rows(tmp_path):
    x = np.random.default_rng(1).normal(size=(10, 5, 2)).astype(np.float32)
    x[3, 0, 0] = np.nan
    np.savez(tmp_path / "s.npz", inputs=x, targets=np.linspace(0, 1, 10))
    split = load_data({"dataset": "npz", "path": str(tmp_path / "s.npz"), "x_key": "inputs",
                       "y_key": "targets", "kind": "sequence"}, val_split=0.0)
    assert split.info.task == "regression"
    assert split.info.inputs["x"] == {"kind": "sequence", "length": 5, "features": 2}
    assert len(split.train) == 9 and split.train.fields["y"].shape == (9, 1)
    assert split.skipped == [f"{tmp_path / 's.npz'}: sample 3 holds NaN or infinity"]


def test_npz_broken_inputs(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(DataError, match="junk.npz"):
        load_data({"dataset": "npz", "path": str(tmp_path / "junk.npz")})
    np.savez(tmp_path / "nokey.npz", a=np.zeros(3))
    with pytest.raises(DataError, match="no array named 'x'; the file has a"):
        load_data({"dataset": "npz", "path": str(tmp_path / "nokey.npz")})
    np.savez(tmp_path / "count.npz", x=np.zeros((4, 2)), y=np.zeros(3, dtype=np.int64))
    with pytest.raises(DataError, match="4 samples but 'y' has 3"):
        load_data({"dataset": "npz", "path": str(tmp_path / "count.npz")})
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(DataError, match="Python objects"):
        load_data({"dataset": "npz", "path": str(tmp_path / "obj.npz")})
    with pytest.raises(DataError, match="does not exist"):
        load_data({"dataset": "npz", "path": str(tmp_path / "missing.npz")})


def test_csv_word_columns_become_one_hot_features(tmp_path):
    rows = "".join(f"{i},{['red', 'blue', 'green'][i % 3]},{i % 2}\n" for i in range(12))
    path = _csv(tmp_path, "size,colour,y\n" + rows + "5,,1\n")
    split = load_data({"dataset": "csv", "path": path, "standardize": False}, val_split=0.0)
    assert split.info.extra["feature_names"] == ["size", "colour=blue", "colour=green", "colour=red"]
    assert split.info.inputs["x"]["features"] == 4
    by_size = {}
    for row in split.train.fields["x"].tolist():
        by_size.setdefault(row[0], []).append(row[1:])
    assert by_size[0.0] == [[0.0, 0.0, 1.0]] and by_size[1.0] == [[1.0, 0.0, 0.0]]
    assert [0.0, 0.0, 0.0] in by_size[5.0]  # an empty category cell is all zeros
    assert split.skipped == []


def test_csv_free_text_column_is_left_out_and_said(tmp_path):
    rows = "".join(f"{i},note number {i},{i % 2}\n" for i in range(60))
    split = load_data({"dataset": "csv", "path": _csv(tmp_path, "a,comment,y\n" + rows)}, val_split=0.0)
    assert split.info.extra["feature_names"] == ["a"] and len(split.train) == 60
    assert any("'comment' left out: 60 different texts" in s for s in split.skipped)
