"""``studio data``: what training would load, in words or JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from studio.cli import main

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_project_data_fits_its_input(capsys):
    assert main(["data", str(TEMPLATES / "cnn_digits.json"), "--json"]) == 0
    rows = _lines(capsys)
    assert rows[0]["type"] == "dataset" and rows[0]["name"] == "digits"
    classes = [r for r in rows if r["type"] == "class"]
    assert len(classes) == 10 and sum(r["train"] + r["val"] for r in classes) == 1797
    assert [r for r in rows if r["type"] == "input"][0]["ok"] is True
    assert rows[-1]["type"] == "summary" and rows[-1]["train"] + rows[-1]["val"] == 1797 and rows[-1]["ok"]


def test_imported_folder_that_does_not_fit_the_input_reports_skips_and_exits_1(tmp_path, capsys):
    for c in ("a", "b"):
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (5, 5), 9).save(tmp_path / "imgs" / c / f"{i}.png")
    (tmp_path / "imgs" / "a" / "bad.png").write_text("x")
    project = json.loads((TEMPLATES / "cnn_digits.json").read_text())
    project["data"] = {"dataset": "image_folder", "path": str(tmp_path / "imgs")}
    (tmp_path / "p.json").write_text(json.dumps(project))
    assert main(["data", str(tmp_path / "p.json"), "--json"]) == 1
    rows = _lines(capsys)
    skipped = [r["item"] for r in rows if r["type"] == "skipped"]
    assert len(skipped) == 1 and "bad.png: not a readable image" in skipped[0]
    check = [r for r in rows if r["type"] == "input"][0]
    assert not check["ok"] and "height is 8 but the data has 5" in check["message"]
    assert rows[-1] == {**rows[-1], "skipped": 1, "problems": 1, "ok": False}


def test_dataset_options_from_the_command_line(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
    code = main(["data", "--dataset", "csv", "--path", str(tmp_path / "t.csv"), "--set", "standardize=false",
                 "--set", "label=label"])
    out = capsys.readouterr().out
    assert code == 0 and "csv (classification)" in out and "field x: kind vector, features 2" in out


def test_unloadable_data_and_bad_arguments(tmp_path, capsys):
    assert main(["data", "--dataset", "wav_folder", "--path", str(tmp_path / "none"), "--json"]) == 1
    row = _lines(capsys)[-1]
    assert row["type"] == "error" and "none does not exist" in row["message"]
    assert main(["data"]) == 2
    assert "name a project" in capsys.readouterr().err
    assert main(["data", "--list", "--json"]) == 0
    names = {r["name"]: r["builtin"] for r in _lines(capsys)}
    assert names["digits"] is True and names["image_folder"] is False


def test_a_relative_data_path_is_read_from_the_project_folder(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "project"
    for c in ("a", "b"):
        (folder / "imgs" / c).mkdir(parents=True)
        for i in range(4):
            Image.new("L", (8, 8), 40 * i).save(folder / "imgs" / c / f"{i}.png")
    project = json.loads((TEMPLATES / "cnn_digits.json").read_text())
    project["data"] = {"dataset": "image_folder", "path": "imgs"}
    (folder / "p.json").write_text(json.dumps(project))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the shell is somewhere else: the path still means project/imgs
    main(["data", str(folder / "p.json"), "--json"])
    rows = _lines(capsys)
    assert rows[0]["type"] == "dataset" and rows[-1]["train"] + rows[-1]["val"] == 8

    # --path typed in the shell is relative to the shell's folder
    assert main(["data", str(folder / "p.json"), "--path", "imgs", "--json"]) == 1
    error = _lines(capsys)[-1]
    assert error["type"] == "error" and str(elsewhere / "imgs") in error["message"]


def test_set_takes_values_as_an_editor_does_and_refuses_unknown_options(tmp_path, capsys):
    for c in ("a", "b"):
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (9, 7), 40 * i).save(tmp_path / "imgs" / c / f"{i}.png")
    args = ["data", "--dataset", "image_folder", "--path", str(tmp_path / "imgs"), "--json"]
    assert main(args + ["--set", "size=5,6", "--set", "grayscale=auto"]) == 0
    assert _lines(capsys)[0]["inputs"]["x"] == {"kind": "image", "channels": 1, "height": 5, "width": 6}
    assert main(args + ["--set", "size=[4, 4]"]) == 0
    assert _lines(capsys)[0]["inputs"]["x"]["height"] == 4
    assert main(args + ["--set", "sise=5"]) == 2
    error = _lines(capsys)[-1]
    assert error["type"] == "error" and error["message"] == (
        "--set sise: image_folder has no option 'sise'; it has path, size, grayscale, lazy")
