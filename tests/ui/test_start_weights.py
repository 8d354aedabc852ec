"""Start from weights, and a template's pretrained weights kept on the first save."""

from __future__ import annotations

from studio.core.project import load
from studio.resources import template_path


def test_start_from_weights_reports_matches_and_keeps_them_beside_the_project(waves_window, tmp_path):
    from studio.export.weights import read_state_dict
    from studio.ui.start_weights import start_from_weights

    window, run = waves_window
    window.document.set_params("classifier", {"out_features": 7})
    window.document.save()
    text = start_from_weights(window, run)
    assert "1 node(s) loaded (lstm)" in text
    assert "classifier kept its initial weights: weight is [4, 64] in the source but [7, 64] here" in text
    saved = read_state_dict(tmp_path / "waves.weights.safetensors")
    assert set(saved) == {k for k in read_state_dict(run) if k.startswith("layers.lstm.")}


def test_a_template_with_pretrained_weights_keeps_them_on_first_save(make_window, tmp_path):
    from studio.training.pretrained import initial_weights
    from studio.ui import start_weights

    template = load(template_path("transfer_digits"))
    template.path = None  # as File > New from a template makes it
    template.name = "My digits"  # renamed before the first save: its weights still come along
    window = make_window(template)
    start_weights.install(window)
    assert window.template_weights.pending is not None
    window.document.save(tmp_path / "mine.json")
    shipped = template_path("transfer_digits").with_name("transfer_digits.weights.safetensors")
    assert (tmp_path / "mine.weights.safetensors").read_bytes() == shipped.read_bytes()
    assert initial_weights(window.document.project) is not None  # training starts from them


def test_a_new_project_named_like_a_template_gets_no_weights(make_window, tmp_path):
    from studio.ui import start_weights

    template = load(template_path("transfer_digits"))
    template.path = template.origin = None  # the same graph and name, typed in rather than made from it
    window = make_window(template)
    start_weights.install(window)
    assert window.template_weights.pending is None
    window.document.save(tmp_path / "mine.json")
    assert not (tmp_path / "mine.weights.safetensors").exists()
