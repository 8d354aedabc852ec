"""Dataset and importer options are declared once, as Params on the registry entry, and
every option of the project file is checked against them before a loader runs."""

from __future__ import annotations

import inspect

import pytest

from studio.data import DataError, load_data
from studio.data.registry import dataset_entry, dataset_names


@pytest.mark.parametrize("name", dataset_names())
def test_each_declared_option_is_a_loader_argument_with_the_same_default(name):
    entry = dataset_entry(name)
    signature = inspect.signature(entry.resolve()).parameters
    for p in entry.params:
        assert p.name in signature, (name, p.name)
        assert signature[p.name].default == p.default, (name, p.name)
    undeclared = set(signature) - {p.name for p in entry.params} - {"seed", "val_split"}
    assert not undeclared, (name, undeclared)


def test_an_unknown_option_is_named_with_the_ones_there_are():
    with pytest.raises(DataError, match="digits has no option 'clases'; it has classes, per_class"):
        load_data({"dataset": "digits", "clases": [0, 1]})


@pytest.mark.parametrize("config, message", [
    ({"dataset": "digits", "per_class": -2}, r"digits.per_class: -2 is not allowed; expected an integer in \[0, 1000\]"),
    ({"dataset": "digits", "classes": 3}, "digits.classes: 3 is not allowed; expected a list of integers"),
    ({"dataset": "image_folder", "path": "x", "lazy": "sometimes"}, "image_folder.lazy: 'sometimes' is not allowed; "
                                                                     "expected true or false, or auto"),
    ({"dataset": "csv", "path": "t.csv", "task": "guess"}, "csv.task: 'guess' is not allowed; expected one of auto, "),
])
def test_a_bad_value_names_the_dataset_and_the_option(config, message):
    with pytest.raises(DataError, match=message):
        load_data(config)


def test_auto_stands_for_an_option_the_importer_works_out(tmp_path):
    from PIL import Image

    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(2):
            Image.new("L", (6, 4), 50 * i).save(tmp_path / c / f"{i}.png")
    split = load_data({"dataset": "image_folder", "path": str(tmp_path), "size": "auto", "lazy": "auto"})
    assert split.info.inputs["x"] == {"kind": "image", "channels": 1, "height": 4, "width": 6}
    square = load_data({"dataset": "image_folder", "path": str(tmp_path), "size": 5})
    assert square.info.inputs["x"]["height"] == square.info.inputs["x"]["width"] == 5


def test_each_importer_is_declared_in_its_own_module_and_found_there():
    import pkgutil

    import studio.data.importers as package

    modules = {f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)
               if not m.name.startswith("_")}
    importers = {dataset_entry(n).resolve().__module__ for n in dataset_names() if not dataset_entry(n).builtin}
    assert importers == modules
    for name in dataset_names():
        entry = dataset_entry(name)
        if not entry.builtin:
            assert entry.path_param() is not None and not entry.path_param().optional, name
