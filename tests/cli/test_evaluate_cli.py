from __future__ import annotations

import json

import numpy as np
import torch
from PIL import Image

from studio.cli import main


def test_evaluate_json_lines_and_report(digits_run, tmp_path, capsys):
    path, run = digits_run
    code = main(["evaluate", str(path), "--weights", str(run), "--json", "--out", str(tmp_path / "rep")])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [x["type"] for x in lines] == ["class"] * 10 + ["file"] * 4 + ["summary"]
    summary = lines[-1]
    assert summary["kind"] == "classification" and summary["split"] == "val"
    assert 0.0 <= summary["metrics"]["accuracy"] <= 1.0
    assert sum(x["support"] for x in lines[:10]) == summary["samples"]
    rows = (tmp_path / "rep" / "confusion.csv").read_text().splitlines()
    assert rows[0].split(",")[1:] == [str(c) for c in range(10)]
    assert sum(int(v) for r in rows[1:] for v in r.split(",")[1:]) == summary["samples"]
    assert Image.open(tmp_path / "rep" / "confusion.png").size[0] > 10
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "data:image/png;base64," in page and "<script" not in page and "src=\"http" not in page


def test_predict_one_json_object_per_input(digits_run, tmp_path, capsys):
    from sklearn.datasets import load_digits

    from studio.core.project import load
    from studio.evaluation import load_run

    path, run = digits_run
    model = load_run(load(path), run).model
    d = load_digits()
    x = torch.tensor(d.images[:40], dtype=torch.float32).unsqueeze(1) / 16.0
    with torch.no_grad():
        right = np.flatnonzero(model(x).argmax(-1).numpy() == d.target[:40])[:3]
    folder = tmp_path / "drawn"
    folder.mkdir()
    for i in right:
        Image.fromarray((d.images[i] / 16 * 255).round().astype(np.uint8)).save(folder / f"{i:02d}.png")
    code = main(["predict", str(path), "--weights", str(run), str(folder), "--top-k", "2", "--json"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [x["class"] for x in lines] == [str(d.target[i]) for i in right]
    assert all(x["type"] == "prediction" and len(x["top"]) == 2 for x in lines)


def test_predict_names_a_corrupt_file_and_exits_2(digits_run, tmp_path, capsys):
    path, run = digits_run
    (tmp_path / "x.png").write_bytes(b"\x89PNG broken")
    assert main(["predict", str(path), "--weights", str(run), str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"studio: {tmp_path / 'x.png'}:") and len(err.strip().splitlines()) == 1
