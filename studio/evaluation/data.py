"""The samples an evaluation reads: the run's validation split (drawn again with the
run's seed), or the test split the project's data section names.

A test split is either a ``test`` section inside ``data`` (options that replace the
training ones, usually another ``path``: ``{"dataset": "image_folder", "path": "photos",
"test": {"path": "photos_test"}}``), or a ``test/`` folder beside ``train/`` in the data
folder. It is loaded whole, by the same importer, with the training set's size, channels
and sample rate, and its classes are matched to the training classes by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.data.base import DataError, DatasetInfo, TensorData
from studio.evaluation.run import EvaluationError

SPLITS = ("val", "test")


def held_out_section(config: dict[str, Any]) -> dict[str, Any] | None:
    """The data section for the test split, or None when the project names none."""
    base = {k: v for k, v in config.items() if k not in ("test", "augment")}
    test = config.get("test")
    if isinstance(test, dict):
        return {**base, **test}
    if test is not None:
        raise EvaluationError(f"data.test must be an object of options (like {{\"path\": ...}}), got {test!r}")
    path = config.get("path")
    if isinstance(path, str) and path and (Path(path) / "train").is_dir() and (Path(path) / "test").is_dir():
        return {**base, "path": str(Path(path) / "test")}
    return None


def evaluation_data(project, settings: dict, split: str = "val"):
    """``(samples, info)``: the split's samples (TensorData or a lazy dataset of dict
    samples) and the training set's :class:`DatasetInfo` (classes, input kinds)."""
    from studio.data.registry import data_section, load_data

    if split not in SPLITS:
        raise EvaluationError(f"unknown split {split!r}; use val or test")
    config = data_section(project)
    seed, val_split = int(settings.get("seed", 0)), float(settings.get("val_split", 0.2))
    try:
        data = load_data(config, seed=seed, val_split=val_split)
    except DataError as exc:
        raise EvaluationError(str(exc)) from None
    if split == "val":
        if len(data.val) == 0:
            raise EvaluationError("the run kept no validation samples (its validation split is 0); "
                                  "evaluate on a test split")
        return data.val, data.info
    test = held_out_section(config)
    if test is None:
        raise EvaluationError("the project's data names no test split: add a test section to the data "
                              "(data.test, e.g. {\"path\": \"my_test_folder\"}) or a test/ folder beside train/")
    test.update(_same_shape_options(test["dataset"], data.info))
    try:
        tested = load_data(test, seed=seed, val_split=0.0)
    except DataError as exc:
        raise EvaluationError(f"test split: {exc}") from None
    samples = _match_classes(tested.train, tested.info, data.info)
    return _same_scaling(samples, tested.info, data.info), data.info


def _same_shape_options(name: str, info: DatasetInfo) -> dict[str, Any]:
    """Options that make the test set's samples the shape of the training set's, for the
    options the importer declares."""
    from studio.data.registry import dataset_entry

    declared = {p.name for p in dataset_entry(name).params}
    spec = next(iter(info.inputs.values()), {})
    out: dict[str, Any] = {}
    if spec.get("kind") == "image":
        if "size" in declared:
            out["size"] = [spec["height"], spec["width"]]
        if "grayscale" in declared:
            out["grayscale"] = spec["channels"] == 1
    if spec.get("kind") == "waveform":
        if "sample_rate" in declared:
            out["sample_rate"] = spec["sample_rate"]
        if "length" in declared:
            out["length"] = spec["length"]
    return out


def _same_scaling(samples, tested: DatasetInfo, trained: DatasetInfo):
    """Standardised features (a CSV table) rescaled by the training rows' figures, not the test rows'."""
    import torch

    if "feature_mean" not in tested.extra or "feature_mean" not in trained.extra or not isinstance(samples, TensorData):
        return samples
    raw = samples.fields["x"] * torch.tensor(tested.extra["feature_std"]) + torch.tensor(tested.extra["feature_mean"])
    x = (raw - torch.tensor(trained.extra["feature_mean"])) / torch.tensor(trained.extra["feature_std"])
    return TensorData({**samples.fields, "x": x})


def _match_classes(samples, tested: DatasetInfo, trained: DatasetInfo):
    """Test labels renumbered to the training classes (a test folder may lack a class)."""
    import torch

    if not tested.classes or not trained.classes or tested.classes == trained.classes:
        return samples
    index = {c: i for i, c in enumerate(trained.classes)}
    unknown = [c for c in tested.classes if c not in index]
    if unknown:
        raise EvaluationError(f"test split: class {unknown[0]!r} is not one the model was trained on "
                              f"({', '.join(trained.classes[:10])}{'...' if len(trained.classes) > 10 else ''})")
    remap = torch.tensor([index[c] for c in tested.classes])
    if isinstance(samples, TensorData) and "y" in samples.fields:
        return TensorData({**samples.fields, "y": remap[samples.fields["y"]]})
    items = getattr(samples, "items", None)
    if items and isinstance(items[0], tuple) and isinstance(items[0][1], int):
        samples.items = [(f, int(remap[label])) for f, label in items]
        samples._cache.clear()
        samples._cached = 0
        return samples
    raise EvaluationError("test split: its classes differ from the training classes and cannot be matched")
