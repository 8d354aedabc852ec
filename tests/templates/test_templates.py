"""Every shipped template is valid, matches its builder, and learns on a small slice."""

import pytest
import torch

from studio.core.analysis import analyze
from studio.core.project import load
from studio.data.registry import load_data
from studio.resources import template_names, template_path
from studio.tasks.templates import TEMPLATES

NAMES = sorted(TEMPLATES)


@pytest.mark.parametrize("name", NAMES)
def test_template_file_is_what_its_builder_writes(name):
    project = load(template_path(name))
    built = TEMPLATES[name]()
    assert project.to_dict() == built.to_dict(), f"run `python -m studio.tasks.templates {name}`"


@pytest.mark.parametrize("name", NAMES)
def test_template_checks_clean_and_says_what_to_try(name):
    project = load(template_path(name))
    a = analyze(project.graph)
    assert not a.problems, [str(p) for p in a.problems]
    assert "Try next" in project.description and len(project.description) > 120


def _slice(split, n_train, n_val):
    split.train = split.train.subset(torch.arange(min(n_train, len(split.train))))
    split.val = split.val.subset(torch.arange(min(n_val, len(split.val))))
    return split


# What each template reaches after a short training on a slice of its data, as a person
# would judge it: a classifier's accuracy well above chance (1 / classes), or a loss that
# falls to a stated fraction of its first epoch's. A new template states its own line here.
# name: (train samples, validation samples, epochs, claim)
LEARNS = {
    "cnn_digits": (256, 64, 3, ("accuracy above chance by", 0.3)),
    "lstm_sequence": (1024, 128, 3, ("accuracy above chance by", 0.15)),
    "lstm_speech": (128, 40, 3, ("accuracy above chance by", 0.15)),
    "transfer_digits": (None, None, 3, ("accuracy above chance by", 0.4)),  # its few-shot set, whole
    "seq2seq_dates": (512, 32, 3, ("train loss falls to at most", 0.6)),
    "shapes_detector": (160, 32, 3, ("train loss falls to at most", 0.8)),
}
DATA = {"lstm_speech": {"speakers": 8}, "shapes_detector": {"n": 200}, "seq2seq_dates": {"n": 600}}


@pytest.mark.parametrize("name", template_names())
def test_template_learns_what_it_claims_on_a_short_run(name, tmp_path):
    from studio.training import train_project

    assert name in LEARNS, f"state in LEARNS what {name} reaches after a short training"
    torch.set_num_threads(1)
    project = load(template_path(name))
    n_train, n_val, epochs, (claim, bound) = LEARNS[name]
    data = load_data({**project.data, **DATA.get(name, {})}, seed=0, val_split=0.2)
    if n_train is not None:
        data = _slice(data, n_train, n_val)
    result = train_project(project, data=data, epochs=epochs, run_dir=tmp_path / "run")
    losses = [r["train_loss"] for r in result.history]
    if claim.startswith("accuracy"):
        chance = 1.0 / len(data.info.classes)
        assert result.metrics["accuracy"] >= chance + bound, (result.metrics, chance, losses)
    else:
        assert losses[-1] <= bound * losses[0], losses


# Data options that make each built-in dataset small, so a whole train-and-export cycle
# of every template takes seconds. Keyed by dataset: a new template on a known dataset
# is covered as it is; a new dataset loads at its default size until it is listed here.
TINY_DATA = {"waves": {"n": 160}, "speech_digits": {"speakers": 3}, "dates": {"n": 200},
             "shapes": {"n": 60}, "digits": {}}


@pytest.mark.parametrize("name", template_names())
def test_every_shipped_template_checks_trains_one_epoch_and_exports(name, tmp_path, capsys):
    """As a user would: `studio check`, then `studio export` of the template as shipped
    (with the weights it ships, if any), then one epoch of `studio train` and an export
    of that run. Each export is checked against torch with onnxruntime before it is written."""
    import json
    import shutil

    from studio.cli import main

    shipped = template_path(name)
    assert main(["check", str(shipped)]) == 0, capsys.readouterr()
    assert main(["export", str(shipped), "--format", "onnx", "--out", str(tmp_path / "shipped.onnx")]) == 0, \
        capsys.readouterr().err
    assert (tmp_path / "shipped.onnx").is_file()

    raw = json.loads(shipped.read_text(encoding="utf-8"))
    raw["data"] = {**raw["data"], **TINY_DATA.get(raw["data"]["dataset"], {})}
    mine = tmp_path / f"{name}.json"
    mine.write_text(json.dumps(raw), encoding="utf-8")
    for beside in shipped.parent.glob(f"{name}.*"):
        if beside != shipped:  # the weights a template starts from travel with it
            shutil.copyfile(beside, tmp_path / beside.name)
    run = tmp_path / "run"
    assert main(["train", str(mine), "--epochs", "1", "--out", str(run)]) == 0, capsys.readouterr().err
    assert (run / "weights.safetensors").is_file()
    out = tmp_path / "trained.onnx"
    assert main(["export", str(mine), "--format", "onnx", "--weights", str(run), "--out", str(out)]) == 0, \
        capsys.readouterr().err
    assert out.is_file() and out.read_bytes() != (tmp_path / "shipped.onnx").read_bytes()
