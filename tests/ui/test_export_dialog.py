"""File > Export...: a threaded export with progress and the check's result shown;
File > Import ONNX... opens the imported graph with its weights."""

from __future__ import annotations

import onnx
import pytest
import torch

from studio.core.project import load
from studio.export.common import build_module
from studio.export.weights import save_weights
from studio.resources import template_path

torch.set_num_threads(1)


@pytest.fixture
def export_window(make_window, tmp_path):
    from studio.ui import export_dialog

    project = load(template_path("lstm_sequence"))
    project.path = tmp_path / "waves.json"
    project.save()
    run = tmp_path / "runs" / "20260101-000000-waves"
    run.mkdir(parents=True)
    save_weights(build_module(project.graph).state_dict(), run / "weights.safetensors")
    window = make_window(project)
    export_dialog.install(window)
    return window, run


def test_menu_entries_are_installed(export_window):
    window, _ = export_window
    texts = [a.text() for a in window.menu("&File").actions()]
    assert {"Export...", "Import ONNX...", "Start from weights..."} <= set(texts)


def test_onnx_export_runs_in_a_thread_and_shows_the_check(export_window, qtbot, tmp_path):
    from studio.ui.export_dialog import open_export_dialog

    window, run = export_window
    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog.selected_weights() == str(run)  # the newest run is preselected
    assert dialog.out.text().endswith("waves.onnx") and dialog.opset.isEnabled()
    dialog.opset.setValue(17)
    progress = []
    dialog.progress.valueChanged.connect(progress.append)
    dialog.export_button.click()
    assert not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.thread is None, timeout=60_000)
    assert dialog.error == "" and dialog.result is not None
    assert progress and progress[-1] == 100 and len(set(progress)) > 2
    text = dialog.status.text()
    assert "Opset 17" in text and "largest difference" in text and "KB" in text
    assert onnx.load(str(tmp_path / "waves.onnx")).opset_import[0].version == 17
    dialog.resize(640, 320)
    dialog.grab().save(str(tmp_path / "export_dialog.png"))
    dialog.close()
    open_export_dialog(window).close()


def test_a_failing_export_shows_the_reason_and_writes_nothing(export_window, qtbot, tmp_path):
    from studio.ui.export_dialog import open_export_dialog

    window, _ = export_window
    dialog = open_export_dialog(window)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 40)
    dialog.weights.setEditText(str(bad))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.thread is None, timeout=60_000)
    assert "bad.safetensors" in dialog.error and "Export failed" in dialog.status.text()
    assert not (tmp_path / "waves.onnx").exists()
    dialog.close()


def test_pytorch_format_disables_onnx_options_and_changes_the_suffix(export_window, qtbot, tmp_path):
    from studio.ui.export_dialog import open_export_dialog

    window, _ = export_window
    dialog = open_export_dialog(window)
    dialog.format.setCurrentIndex(dialog.format.findData("pytorch"))
    assert dialog.out.text().endswith("waves.py") and not dialog.opset.isEnabled()
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.thread is None, timeout=60_000)
    assert dialog.result["max_diff"] == 0.0 and (tmp_path / "waves.pt").is_file()
    dialog.close()


def test_import_onnx_opens_the_graph(export_window, tmp_path):
    from studio.export.onnx import export_onnx
    from studio.ui.export_dialog import import_model

    window, _ = export_window
    export_onnx(window.document.graph, tmp_path / "m.onnx")
    path = import_model(window, tmp_path / "m.onnx", tmp_path / "imported.json")
    assert window.document.path == path
    assert {n.type for n in window.document.graph.nodes} == {"Input", "LSTM", "Linear", "Output"}
    assert (tmp_path / "imported.weights.safetensors").is_file()
    assert "Imported m.onnx" in window.statusBar().currentMessage()


def test_preflight_names_the_problem_before_exporting(export_window):
    from studio.ui.export_dialog import open_export_dialog

    window, _ = export_window
    window.document.disconnect([window.document.graph.edge_into("classifier", "in")])
    dialog = open_export_dialog(window)
    assert "Cannot export yet" in dialog.status.text() and "classifier" in dialog.status.text()
    dialog.close()


def test_start_from_weights_reports_matches_and_keeps_them_beside_the_project(export_window, tmp_path):
    from studio.export.weights import read_state_dict
    from studio.ui.export_dialog import start_from_weights

    window, run = export_window
    window.document.set_params("classifier", {"out_features": 7})
    window.document.save()
    text = start_from_weights(window, run)
    assert "1 node(s) loaded (lstm)" in text
    assert "classifier kept its initial weights: weight is [4, 64] in the source but [7, 64] here" in text
    saved = read_state_dict(tmp_path / "waves.weights.safetensors")
    assert set(saved) == {k for k in read_state_dict(run) if k.startswith("layers.lstm.")}


def test_a_template_with_pretrained_weights_keeps_them_on_first_save(make_window, tmp_path):
    from studio.training.pretrained import initial_weights
    from studio.ui import export_dialog

    template = load(template_path("transfer_digits"))
    template.path = None  # as File > New from a template makes it
    window = make_window(template)
    export_dialog.install(window)
    assert window.template_weights.pending is not None
    window.document.save(tmp_path / "mine.json")
    shipped = template_path("transfer_digits").with_name("transfer_digits.weights.safetensors")
    assert (tmp_path / "mine.weights.safetensors").read_bytes() == shipped.read_bytes()
    assert initial_weights(window.document.project) is not None  # training starts from them


def test_exporting_from_a_templates_starting_weights_says_the_head_is_fresh(make_window, qtbot, tmp_path):
    import shutil

    from studio.ui import export_dialog
    from studio.ui.export_dialog import open_export_dialog

    shipped = template_path("transfer_digits")
    project = load(shipped)
    project.save(tmp_path / "mine.json")
    shutil.copyfile(shipped.with_name("transfer_digits.weights.safetensors"), tmp_path / "mine.weights.safetensors")
    window = make_window(project)
    export_dialog.install(window)
    dialog = open_export_dialog(window)
    assert dialog.weights.currentText() == "starting weights (mine.weights.safetensors)"
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.thread is None, timeout=60_000)
    assert dialog.error == ""
    assert "Starting weights loaded into conv1, conv2; randomly initialised: head." in dialog.status.text()
    assert (tmp_path / "mine.onnx").is_file()
    dialog.close()
