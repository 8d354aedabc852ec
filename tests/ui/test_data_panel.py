"""The data panel: choose data, see it, use it; the project and the Input node follow."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from studio.core.project import load
from studio.ui.document import Document

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


class BareWindow(QMainWindow):
    """The contract a panel may rely on: ``document``, ``add_panel``, ``menu``."""

    def __init__(self, project) -> None:
        super().__init__()
        self.document = Document(project, self)
        self._menus: dict[str, QMenu] = {}

    def add_panel(self, widget, title, area="right") -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def menu(self, title) -> QMenu:
        return self._menus.setdefault(title, self.menuBar().addMenu(title))


@pytest.fixture
def bare(qtbot, registry):
    project = load(TEMPLATES / "cnn_digits.json", registry)
    window = BareWindow(project)
    qtbot.addWidget(window)
    from studio.ui import data_panel

    panel = data_panel.install(window)
    yield window, panel
    window.document.undo_stack.setClean()  # a dirty stack signals into a deleted Document on teardown


def _pets(root: Path) -> Path:
    for c, value in (("cat", 40), ("dog", 220)):
        for i in range(6):
            (root / c).mkdir(parents=True, exist_ok=True)
            Image.new("L", (12, 10), value).save(root / c / f"{i}.png")
    (root / "dog" / "bad.png").write_text("no image")
    return root


def _choose(panel, name):
    panel.source.setCurrentIndex(panel.source.findData(name))


def _type(panel, option, text):
    """Type into an option's text field, as a person does."""
    panel.form.options[option].line.setText(text)


def test_importing_a_folder_updates_project_and_input_shape_in_one_undo_step(bare, qtbot, tmp_path):
    window, panel = bare
    doc = window.document
    root = _pets(tmp_path / "pets")
    _choose(panel, "image_folder")
    panel.path.setText(str(root))
    _type(panel, "size", "10, 12")
    panel.form.augment["flip"].widget.setValue(0.5)
    panel.form.augment["noise"].widget.setValue(0.05)
    with qtbot.waitSignal(panel.applied, timeout=20000) as applied:
        panel.use_button.click()
    assert applied.args[0] == {"dataset": "image_folder", "path": str(root), "size": [10, 12],
                               "augment": {"flip": 0.5, "noise": 0.05}}
    assert doc.project.data == applied.args[0]
    image = doc.graph.node("image")
    assert (image.params["channels"], image.params["height"], image.params["width"]) == (1, 10, 12)
    assert doc.modified
    # The preview shows what was loaded and what was left out.
    assert "10 training · 2 validation · 2 classes · 1 skipped" in panel.status.text()
    assert panel.skipped.count() == 1 and "bad.png" in panel.skipped.item(0).text()
    assert panel.tabs.tabText(2) == "Skipped (1)"
    assert [r[0] for r in panel.balance.rows] == ["cat", "dog"]
    assert len(panel.images.images) == len(panel.split.train)
    assert panel.aug_stack.currentWidget() is panel.aug_images and len(panel.aug_images.images) == 16

    doc.undo_stack.undo()  # data and shape come back together
    assert doc.project.data == {"dataset": "digits"}
    assert (image.params["height"], image.params["width"]) == (8, 8)
    assert panel.source.currentData() == "digits" and panel.path is None  # built in: no path row
    doc.undo_stack.redo()
    assert doc.project.data["dataset"] == "image_folder" and image.params["height"] == 10
    assert panel.source.currentData() == "image_folder" and panel.form.options["size"].line.text() == "10, 12"


def test_builtin_dataset_preview_and_use_without_shape(bare, qtbot):
    window, panel = bare
    _choose(panel, "digits")
    panel.set_shape.setChecked(False)
    with qtbot.waitSignal(panel.loaded, timeout=20000):
        panel.preview_button.click()
    assert panel.samples.currentWidget() is panel.images
    assert len(panel.balance.rows) == 10 and sum(t + v for _, t, v in panel.balance.rows) == 1797
    window.document.graph.set_params("image", {"height": 5})
    with qtbot.waitSignal(panel.applied, timeout=5000):
        panel.use_button.click()
    assert window.document.graph.node("image").params["height"] == 5


def test_broken_import_shows_the_message_and_leaves_the_project(bare, qtbot, tmp_path):
    window, panel = bare
    _choose(panel, "csv")
    panel.path.setText(str(tmp_path / "missing.csv"))
    with qtbot.waitSignal(panel.failed, timeout=20000) as failed:
        panel.use_button.click()
    assert "missing.csv does not exist" in failed.args[0]
    assert "missing.csv" in panel.status.text()
    assert window.document.project.data == {"dataset": "digits"} and not window.document.modified
    _choose(panel, "image_folder")
    _type(panel, "size", "ten")
    with qtbot.waitSignal(panel.failed, timeout=2000) as failed:
        panel.preview_button.click()
    assert failed.args[0] == "image_folder.size: 'ten' is not 2 integers in [1, 8192], or auto"
    assert window.document.project.data == {"dataset": "digits"}


def test_text_pairs_and_waveforms_preview(bare, qtbot, tmp_path):
    window, panel = bare
    pairs = tmp_path / "dates.tsv"
    pairs.write_text("".join(f"{d} March 1999\t1999-03-{d:02d}\n" for d in range(1, 21)))
    _choose(panel, "text_pairs")
    panel.path.setText(str(pairs))
    with qtbot.waitSignal(panel.loaded, timeout=20000):
        panel.preview_button.click()
    assert panel.samples.currentWidget() is panel.rows
    cells = {panel.rows.item(r, 0).text(): panel.rows.item(r, 1).text() for r in range(panel.rows.rowCount())}
    assert cells and all(v == f"1999-03-{int(k.split()[0]):02d}" for k, v in cells.items())
    assert panel.balance.rows == []

    _choose(panel, "speech_digits")
    assert panel.source.currentData() == "speech_digits"
    panel.form.augment["gain"].widget.setValue(6)
    with qtbot.waitSignal(panel.loaded, timeout=60000):
        panel.preview_button.click()
    assert panel.samples.currentWidget() is panel.waves
    assert panel.waves.curve.getData()[1] is not None and len(panel.waves.curve.getData()[1]) > 100
    assert panel.aug_stack.currentWidget() is panel.aug_waves


def test_installs_into_the_main_window(make_window):
    from studio.ui import data_panel

    window = make_window(load(TEMPLATES / "cnn_digits.json"))
    panel = data_panel.install(window)
    assert window.data_panel is panel
    assert any(a.text() == "Choose data…" for a in window.menu("&Data").actions())
    assert panel.source.currentData() == "digits"


def _held_dataset(monkeypatch):
    """A dataset that loads only when the test lets it, like a big folder on a slow disk;
    registered for one test."""
    import threading

    from studio.data import dataset_names, registry
    from studio.data.builtin.digits import load_digits_split

    started, release = threading.Event(), threading.Event()

    def held(seed=0, val_split=0.2):
        started.set()
        release.wait(30)
        split = load_digits_split(seed, val_split, classes=[0, 1])
        split.info.name = "held"
        return split

    dataset_names()  # the built-ins first, so this one is an addition
    monkeypatch.setitem(registry._DATASETS, "held_digits_for_test",
                        registry.DatasetEntry("held_digits_for_test", held, "digits, when let"))
    return started, release


def test_loading_runs_beside_the_ui_and_the_newest_choice_wins(qtbot, registry, monkeypatch):
    from studio.ui import data_panel

    started, release = _held_dataset(monkeypatch)
    window = BareWindow(load(TEMPLATES / "cnn_digits.json", registry))
    qtbot.addWidget(window)
    panel = data_panel.install(window)
    _choose(panel, "held_digits_for_test")
    panel.load()  # returns while the data is still loading: the editor is not waiting for it
    assert started.wait(10) and not release.is_set()
    assert panel.status.text() == "Loading held_digits_for_test…" and panel.split is None
    _choose(panel, "digits")  # the person changes their mind meanwhile
    with qtbot.waitSignal(panel.loaded, timeout=20000) as first:
        panel.load()
    assert first.args[0].info.name == "digits"
    with qtbot.waitSignal(panel._loader.finished, timeout=20000) as late:
        release.set()  # the first request finishes now and must be ignored
    assert late.args[0] == 1 and late.args[1]["split"].info.name == "held"
    assert panel.split.info.name == "digits" and len(panel.balance.rows) == 10
    assert panel.status.text().startswith("8x8 grey images of handwritten digits")


def test_table_rows_preview_with_column_names_and_skipped_lines(bare, qtbot, tmp_path):
    window, panel = bare
    table = tmp_path / "iris.csv"
    table.write_text("sepal,petal,species\n" + "".join(f"{i},{i % 3},{'ab'[i % 2]}\n" for i in range(20)) + "1,2\n")
    _choose(panel, "csv")
    panel.path.setText(str(table))
    panel.form.options["standardize"].widget.setChecked(False)
    with qtbot.waitSignal(panel.loaded, timeout=20000):
        panel.preview_button.click()
    headers = [panel.rows.horizontalHeaderItem(c).text() for c in range(panel.rows.columnCount())]
    assert headers == ["species", "sepal", "petal"]
    first = [panel.rows.item(0, c).text() for c in range(3)]
    assert first[0] == "ab"[int(float(first[1])) % 2] and int(float(first[1])) % 3 == int(float(first[2]))
    assert panel.skipped.count() == 1 and "iris.csv:22:" in panel.skipped.item(0).text()
    with qtbot.waitSignal(panel.applied, timeout=5000):
        panel.use_button.click()
    # The Input now describes the rows; the analysis then flags the convolutions that cannot take them.
    params = window.document.graph.node("image").params
    assert (params["kind"], params["features"]) == ("vector", 2)
    assert "Input shape set on image" in panel.status.text()


def test_each_choice_keeps_its_own_path_and_options(bare):
    _, panel = bare
    _choose(panel, "image_folder")
    panel.path.setText("/photos")
    _type(panel, "size", "32, 32")
    _choose(panel, "csv")
    assert panel.path.text() == "" and panel.form.options["label"].line.text() == "-1"
    panel.path.setText("/table.csv")
    _choose(panel, "image_folder")
    assert panel.path.text() == "/photos" and panel.config()["size"] == [32, 32]
    _choose(panel, "csv")
    assert panel.path.text() == "/table.csv"


def test_a_folder_beside_the_project_is_kept_relative_and_read_from_there(bare, qtbot, tmp_path, monkeypatch):
    from studio.ui import data_panel

    window, panel = bare
    window.document.project.path = tmp_path / "proj" / "p.json"
    root = _pets(tmp_path / "proj" / "data" / "pets")
    outside = _pets(tmp_path / "other")
    _choose(panel, "image_folder")
    monkeypatch.setattr(data_panel.QFileDialog, "getExistingDirectory", lambda *a: str(outside))
    panel.browse.click()
    assert panel.path.text() == str(outside)  # outside the project folder: absolute
    monkeypatch.setattr(data_panel.QFileDialog, "getExistingDirectory", lambda *a: str(root))
    panel.browse.click()
    assert panel.path.text() == "data/pets"  # the project and its data can move together
    monkeypatch.chdir(tmp_path)  # not the project's folder
    with qtbot.waitSignal(panel.applied, timeout=20000) as applied:
        panel.use_button.click()
    assert applied.args[0]["path"] == "data/pets"
    assert [r[0] for r in panel.balance.rows] == ["cat", "dog"]


def _register_points_importer(monkeypatch):
    """A new importer, declared in one place: its loader and its options as Params. Nothing
    else in Layer Studio is told about it."""
    import torch

    from studio.data import dataset_names, registry
    from studio.data.base import DatasetInfo, TensorData
    from studio.data.importers._common import Skipped, existing_file, finish
    from studio.spec.params import Param

    def load_points(seed=0, val_split=0.2, path=None, scale=1.0, header=False):
        path = existing_file(path, "points file")
        rows = [line.split() for line in path.read_text().splitlines()[1 if header else 0:] if line.strip()]
        x = torch.tensor([[float(a) * scale, float(b) * scale] for a, b, _ in rows])
        y = torch.tensor([int(c) for _, _, c in rows])
        info = DatasetInfo("points", "classification", f"Points from {path.name}", classes=["a", "b"],
                           inputs={"x": {"kind": "vector", "features": 2}})
        return finish(TensorData({"x": x, "y": y}), info, Skipped(), seed, val_split)

    dataset_names()  # the built-ins first, so this one is an addition
    monkeypatch.setattr(registry, "_DATASETS", dict(registry._DATASETS))
    registry.register_dataset("points", load_points, "Points in a plane, x y label per line", builtin=False, params=(
        Param("path", "file", None, choices=(".txt",), doc="The points file"),
        Param("scale", "float", 1.0, 0.001, 1000.0, doc="Multiply every coordinate"),
        Param("header", "bool", False, doc="The first line names the columns")))


def test_an_importer_registered_anywhere_gets_its_form_and_its_command_line(qtbot, tmp_path, monkeypatch, capsys,
                                                                               registry):
    import json

    from PySide6.QtWidgets import QCheckBox

    from studio.cli import main
    from studio.ui import data_panel
    from studio.ui.param_editors import FloatSpinBox

    _register_points_importer(monkeypatch)
    points = tmp_path / "points.txt"
    points.write_text("x y label\n" + "".join(f"{i} {i % 3} {i % 2}\n" for i in range(20)))
    window = BareWindow(load(TEMPLATES / "cnn_digits.json", registry))
    qtbot.addWidget(window)
    panel = data_panel.install(window)

    # The panel offers it, with a path row and a Browse button offering its files, and one
    # typed editor per option.
    _choose(panel, "points")
    assert panel.source.currentText() == "Import: points"
    assert list(panel.form.options) == ["path", "scale", "header"]
    assert isinstance(panel.form.options["scale"].widget, FloatSpinBox)
    assert isinstance(panel.form.options["header"].widget, QCheckBox)
    chosen = []
    monkeypatch.setattr(data_panel.QFileDialog, "getOpenFileName",
                        lambda *a: (chosen.append(a[3]), (str(points), ""))[1])
    panel.browse.click()
    assert chosen == ["The points file (*.txt)"] and panel.path.text() == str(points)
    panel.form.options["scale"].widget.setValue(2.5)
    panel.form.options["header"].widget.setChecked(True)
    with qtbot.waitSignal(panel.applied, timeout=20000) as applied:
        panel.use_button.click()
    assert applied.args[0] == {"dataset": "points", "path": str(points), "scale": 2.5, "header": True}
    assert panel.rows.item(0, 1).text() == f"{float(panel.split.train.fields['x'][0, 0]):.4g}"
    assert window.document.graph.node("image").params["features"] == 2
    window.document.undo_stack.setClean()

    # `studio data` lists it with its options, checks --set against them, and loads it.
    assert main(["data", "--list", "--json"]) == 0
    listed = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert [o["name"] for o in listed["points"]["options"]] == ["path", "scale", "header"]
    assert listed["points"]["builtin"] is False
    assert main(["data", "--dataset", "points", "--path", str(points), "--set", "header=true",
                 "--set", "scale=0.5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["train"] + summary["val"] == 20
    assert main(["data", "--dataset", "points", "--path", str(points), "--set", "scale=huge"]) == 2
    assert capsys.readouterr().err.strip() == "studio: --set points.scale: 'huge' is not a number in [0.001, 1000]"
