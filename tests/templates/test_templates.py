"""Every shipped template is valid, matches its builder, and learns on a small slice."""

import pytest
import torch

from studio.core.analysis import analyze
from studio.core.project import load
from studio.data.registry import load_data
from studio.resources import template_path
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


# (train samples, validation samples, epochs): enough batches to see the loss fall.
SLICES = {"cnn_digits": (256, 64, 3), "lstm_sequence": (256, 64, 3), "lstm_speech": (128, 40, 3),
          "seq2seq_dates": (512, 32, 3), "shapes_detector": (160, 32, 3)}
DATA = {"lstm_speech": {"speakers": 8}, "shapes_detector": {"n": 200}, "seq2seq_dates": {"n": 600}}


@pytest.mark.parametrize("name", NAMES)
def test_template_trains_and_its_loss_falls(name, tmp_path):
    from studio.training import train_project

    torch.set_num_threads(1)
    project = load(template_path(name))
    n_train, n_val, epochs = SLICES[name]
    data = _slice(load_data({**project.data, **DATA.get(name, {})}, seed=0, val_split=0.2), n_train, n_val)
    result = train_project(project, data=data, epochs=epochs, run_dir=tmp_path / "run")
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < losses[0], losses
    metric = next(o.params["metric"] for o in result.model.outputs if o.node in result.model.losses)
    assert 0.0 <= result.metrics[metric] <= 1.0
