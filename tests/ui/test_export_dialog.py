"""File > Export...: an export on a worker thread, with progress and the check's result shown."""

from __future__ import annotations

import onnx


def test_the_window_installs_export_import_and_start_from_weights_in_that_order(waves_window):
    window, _ = waves_window
    texts = [a.text() for a in window.menu("&File").actions()]
    found = [t for t in texts if t in ("Export...", "Import ONNX...", "Start from weights...")]
    assert found == ["Export...", "Import ONNX...", "Start from weights..."]


def test_onnx_export_runs_in_a_thread_and_shows_the_check(waves_window, qtbot, tmp_path):
    from studio.ui.export_dialog import open_export_dialog

    window, run = waves_window
    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog.selected_weights() == str(run)  # the newest run is preselected
    assert dialog.out.text().endswith("waves.onnx") and dialog.opset.isEnabled()
    dialog.opset.setValue(17)
    progress = []
    dialog.progress.valueChanged.connect(progress.append)
    dialog.export_button.click()
    assert not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.error == "" and dialog.result is not None
    assert progress and progress[-1] == 100 and len(set(progress)) > 2
    text = dialog.status.text()
    assert "Opset 17" in text and "largest difference" in text and "KB" in text
    assert onnx.load(str(tmp_path / "waves.onnx")).opset_import[0].version == 17
    dialog.resize(640, 320)
    dialog.grab().save(str(tmp_path / "export_dialog.png"))
    dialog.close()
    open_export_dialog(window).close()


def test_a_failing_export_shows_the_reason_and_writes_nothing(waves_window, qtbot, tmp_path):
    from studio.ui.export_dialog import open_export_dialog

    window, _ = waves_window
    dialog = open_export_dialog(window)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 40)
    dialog.weights.setEditText(str(bad))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert "bad.safetensors" in dialog.error and "Export failed" in dialog.status.text()
    assert not (tmp_path / "waves.onnx").exists()
    dialog.close()


def test_pytorch_format_disables_onnx_options_and_changes_the_suffix(waves_window, qtbot, tmp_path):
    from studio.ui.export_dialog import open_export_dialog

    window, _ = waves_window
    dialog = open_export_dialog(window)
    dialog.format.setCurrentIndex(dialog.format.findData("pytorch"))
    assert dialog.out.text().endswith("waves.py") and not dialog.opset.isEnabled()
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.result["max_diff"] == 0.0 and (tmp_path / "waves.pt").is_file()
    dialog.close()


def test_preflight_names_the_problem_before_exporting(waves_window):
    from studio.ui.export_dialog import open_export_dialog

    window, _ = waves_window
    window.document.disconnect([window.document.graph.edge_into("classifier", "in")])
    dialog = open_export_dialog(window)
    assert "Cannot export yet" in dialog.status.text() and "classifier" in dialog.status.text()
    dialog.close()


def test_exporting_from_a_templates_starting_weights_says_the_head_is_fresh(make_window, qtbot, tmp_path):
    import shutil

    from studio.core.project import load
    from studio.resources import template_path
    from studio.ui.export_dialog import open_export_dialog

    shipped = template_path("transfer_digits")
    project = load(shipped)
    project.save(tmp_path / "mine.json")
    shutil.copyfile(shipped.with_name("transfer_digits.weights.safetensors"), tmp_path / "mine.weights.safetensors")
    window = make_window(project, plugins=True)
    dialog = open_export_dialog(window)
    assert dialog.weights.currentText() == "starting weights (mine.weights.safetensors)"
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.error == ""
    assert "Starting weights loaded into conv1, conv2; randomly initialised: head." in dialog.status.text()
    assert (tmp_path / "mine.onnx").is_file()
    dialog.close()


def test_float16_export_shows_the_checks_figures(waves_window, qtbot, tmp_path):
    from studio.ui.export_dialog import open_export_dialog

    window, _ = waves_window
    dialog = open_export_dialog(window)
    assert [dialog.precision.itemData(i) for i in range(dialog.precision.count())] == ["fp32", "int8", "fp16"]
    dialog.format.setCurrentIndex(dialog.format.findData("pytorch"))
    assert not dialog.precision.isEnabled()
    dialog.format.setCurrentIndex(dialog.format.findData("onnx"))
    dialog.precision.setCurrentIndex(dialog.precision.findData("fp16"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert dialog.error == "" and dialog.result["precision"] == "fp16"
    text = dialog.status.text()
    assert f"{dialog.result['size_ratio']:.2f}x the float model's" in text
    assert "Accuracy " in text and "(float16) against " in text and "(float): a drop of " in text
    assert "Checked on " in text and "validation samples of waves" in text
    model = onnx.load(str(tmp_path / "waves.onnx"))
    assert onnx.TensorProto.FLOAT16 in {t.data_type for t in model.graph.initializer}
    dialog.resize(640, 360)
    dialog.grab().save(str(tmp_path / "export_fp16.png"))
    dialog.close()
