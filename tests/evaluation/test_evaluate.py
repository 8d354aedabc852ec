from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.core.project import load
from studio.data.base import DatasetInfo, TensorData
from studio.evaluation import EvaluationError, RunMismatch, evaluate, load_run
from studio.evaluation.data import held_out_section
from studio.evaluation.metrics import confusion_matrix, per_class, regression_figures


def test_the_matrix_is_a_plain_count():
    rng = np.random.default_rng(0)
    true, pred = rng.integers(0, 7, 500), rng.integers(0, 7, 500)
    plain = np.zeros((7, 7), dtype=int)
    for t, p in zip(true, pred):
        plain[t, p] += 1
    assert (confusion_matrix(true, pred, 7) == plain).all()
    per = per_class(plain)
    assert per["recall"][3] == pytest.approx(plain[3, 3] / plain[3].sum())
    assert per["precision"][3] == pytest.approx(plain[3, 3] / plain[:, 3].sum())


def test_regression_figures():
    got = regression_figures(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 3.0]))
    assert got["mae"] == pytest.approx(2 / 3)
    assert got["rmse"] == pytest.approx(np.sqrt(2 / 3))
    assert got["r2"] == pytest.approx(1 - 2 / sum((t - 7 / 3) ** 2 for t in (1, 3, 3)))


def test_the_run_matrix_counts_the_validation_predictions(digits_run):
    path, run = digits_run
    project = load(path)
    result = evaluate(project, run)
    assert result.kind == "classification" and result.classes == [str(c) for c in range(10)]
    model = load_run(project, run).model
    x, y = result.data.fields["x"], result.data.fields["y"]
    with torch.no_grad():
        pred = model(x).argmax(-1).numpy()
    plain = np.zeros((10, 10), dtype=int)
    for t, p in zip(y.numpy(), pred):
        plain[t, p] += 1
    assert (result.confusion == plain).all()
    assert result.metrics["accuracy"] == pytest.approx((pred == y.numpy()).mean())
    assert "top5_accuracy" in result.metrics
    assert [r["support"] for r in result.table] == plain.sum(1).tolist()


def test_a_sample_known_to_be_wrong_is_in_the_misclassified_list(digits_run):
    path, run = digits_run
    project = load(path)
    loaded = load_run(project, run)
    result = evaluate(project, loaded)
    # Make sample 0 certainly wrong: give it the label the model likes least.
    data = result.data
    with torch.no_grad():
        worst = int(loaded.model(data.fields["x"][:1]).argmin(-1))
    y = data.fields["y"].clone()
    y[0] = worst
    info = DatasetInfo("digits", "classification", classes=result.classes, inputs={"x": dict(result.input_spec)})
    again = evaluate(project, loaded, data=(TensorData({"x": data.fields["x"], "y": y}), info))
    wrong = again.misclassified()
    assert 0 in wrong.tolist()
    assert 0 not in again.correct().tolist()
    conf = again.confidence[wrong]
    assert (np.diff(conf) <= 1e-7).all()  # the most confident mistakes first
    assert again.top_k(0)[0][0] != str(worst)


def test_a_run_of_another_graph_is_named(digits_run, tmp_path):
    path, run = digits_run
    doc = json.loads(path.read_text())
    for node in doc["nodes"]:
        if node["id"] == "conv1":
            node["params"]["out_channels"] = 8
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc))
    with pytest.raises(RunMismatch, match="trained on another graph"):
        load_run(load(changed), run)


def test_no_test_split_says_how_to_add_one(digits_run):
    path, run = digits_run
    with pytest.raises(EvaluationError, match="test section"):
        evaluate(load(path), run, "test")


def test_a_test_section_replaces_the_options():
    assert held_out_section({"dataset": "csv", "path": "a.csv", "test": {"path": "b.csv"}}) == \
        {"dataset": "csv", "path": "b.csv"}
    assert held_out_section({"dataset": "digits"}) is None


def test_a_test_folder_is_evaluated_with_the_training_size(tmp_path):
    from PIL import Image

    from studio.evaluation.data import evaluation_data
    from studio.resources import template_path

    for part, n in (("train", 6), ("val", 2), ("test", 3)):
        for c, shade in (("dark", 30), ("light", 220)):
            if part == "test" and c == "dark":
                continue  # the test folder lacks a class: labels still match the training classes
            (tmp_path / "imgs" / part / c).mkdir(parents=True)
            for i in range(n):
                size = (12, 10) if part == "test" else (6, 5)
                Image.new("L", size, shade).save(tmp_path / "imgs" / part / c / f"{i}.png")
    project = load(template_path("cnn_digits"))
    project.data = {"dataset": "image_folder", "path": str(tmp_path / "imgs")}
    samples, info = evaluation_data(project, {"seed": 0, "val_split": 0.2}, "test")
    assert info.classes == ["dark", "light"]
    assert samples.fields["x"].shape == (3, 1, 5, 6)
    assert samples.fields["y"].tolist() == [1, 1, 1]
