"""Train from the panel: curves receive points, the graph can change meanwhile, Stop ends it."""

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.core.project import load
from studio.resources import template_path


@pytest.fixture
def trained_window(make_window, tmp_path):
    from studio.ui import training_panel

    torch.set_num_threads(1)
    project = load(template_path("cnn_digits"))
    project.path = tmp_path / "digits.json"
    project.training.update(epochs=200, batch_size=32, threads=1)
    window = make_window(project)
    panel = training_panel.install(window)
    yield window, panel
    panel.shutdown()


def test_train_streams_curves_and_stop_ends_the_run(trained_window, qtbot):
    window, panel = trained_window
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()
    panel.train_button.click()
    assert panel.running and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: panel.point_counts()["batch"] > 20 and panel.point_counts()["val"] >= 2, timeout=30_000)
    counts = panel.point_counts()
    plots = panel.plots
    assert all(p.scene() is plots.scene() for p in (plots.loss_plot, plots.metric_plot, plots.lr_plot))
    assert counts["smooth"] == counts["batch"] and counts["metric"] >= 2 and counts["lr"] >= 2
    assert "samples/s" in panel.live.text() and "ETA" in panel.live.text() and panel.progress.value() > 0

    # Editing the graph mid-run is allowed; the panel says the run trains the old graph.
    assert not panel.changed_label.isVisibleTo(panel)
    window.document.set_params("conv1", {"out_channels": 8})
    assert panel.changed_label.isVisibleTo(panel)

    with qtbot.waitSignal(panel.runFinished, timeout=20_000) as finished:
        panel.stop_button.click()
    assert finished.args[0]["status"] == "stopped"
    assert not panel.running and panel.train_button.isEnabled()
    assert panel.status.text().startswith("Stopped")
    assert panel.runs.count() == 1 and "stopped" in panel.runs.item(0).text()
    # The live line, the status and the runs list agree on where it stopped; no ETA stays.
    done = len(finished.args[0]["history"])
    assert f" · {done} epochs · " in panel.runs.item(0).text()
    assert panel.live.text().endswith(f"stopped ({done} epoch{'s' if done != 1 else ''} done)")
    assert "ETA" not in panel.live.text()
    epoch = int(panel.live.text().split("/")[0].removeprefix("Epoch "))
    if epoch == done + 1:  # stopped within an epoch
        assert f"stopped by request in epoch {epoch}" in panel.status.text()
    else:  # between two epochs
        assert epoch == done and f"stopped by request after epoch {epoch}" in panel.status.text()

    # Ticking a past run overlays its curve; a new run starts from empty curves.
    panel.runs.item(0).setCheckState(Qt.CheckState.Checked)
    assert len(plots.past_curves) == 1
    panel.train_button.click()
    assert plots.series["val"].n == 0  # the previous run's points are gone
    qtbot.waitUntil(lambda: panel.point_counts()["batch"] > 0, timeout=30_000)
    assert plots.loss_plot.scene() is plots.scene() and len(plots.past_curves) == 1
    with qtbot.waitSignal(panel.runFinished, timeout=20_000):
        panel.stop_button.click()


def test_pause_holds_the_curves_and_resume_continues(trained_window, qtbot):
    window, panel = trained_window
    panel.train_button.click()
    qtbot.waitUntil(lambda: panel.point_counts()["batch"] > 5, timeout=30_000)
    control = panel.worker.control
    panel.pause_button.click()
    assert panel.pause_button.text() == "Resume" and panel.status.text() == "Paused"
    qtbot.waitUntil(lambda: control.held, timeout=10_000)  # the loop waits before its next batch
    QApplication.processEvents()  # what it sent before it paused arrives
    held, live = panel.series["batch"].n, panel.live.text()
    for _ in range(3):
        QApplication.processEvents()
    assert panel.series["batch"].n == held and panel.live.text() == live and control.held
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.series["batch"].n > held, timeout=10_000)
    with qtbot.waitSignal(panel.runFinished, timeout=20_000):
        panel.stop_button.click()


def test_a_finished_run_shows_its_last_epoch_and_batch(trained_window, qtbot):
    window, panel = trained_window
    window.document.project.training.update(epochs=2, batch_size=256)
    with qtbot.waitSignal(panel.runFinished, timeout=60_000) as finished:
        panel.train_button.click()
    assert finished.args[0]["status"] == "completed"
    p = finished.args[0]["progress"]
    assert (p.epoch, p.epochs, p.batch) == (2, 2, p.batches)  # not 1/2 at batch n-1, nor 3/2
    assert panel.live.text() == p.text()
    assert panel.live.text().startswith(f"Epoch 2/2 · batch {p.batches}/{p.batches} · ")
    assert panel.live.text().endswith(" · done") and panel.progress.value() == 1000
    assert panel.status.text() == "Finished" and " · 2 epochs" in panel.runs.item(0).text()
    # The epoch table: one row per epoch, the iteration count at the end of each, the best marked.
    table = panel.epoch_table.table
    assert table.rowCount() == 2
    assert [table.item(r, 1).text() for r in range(2)] == [str(p.batches), str(2 * p.batches)]
    history = finished.args[0]["history"]
    best = min(range(2), key=lambda r: history[r]["val_loss"])
    assert table.item(best, 0).text() == f"{best + 1} ★" and table.item(best, 0).font().bold()
    assert panel.epoch_table.final.text().startswith("Finished: 2 epochs")
    assert f"Best: epoch {best + 1}" in panel.epoch_table.final.text()


def test_a_failing_run_reports_and_the_panel_recovers(trained_window, qtbot):
    window, panel = trained_window
    window.document.project.data = {"dataset": "no-such-set"}
    with qtbot.waitSignal(panel.runFinished, timeout=20_000) as finished:
        panel.train_button.click()
    assert finished.args[0]["status"] == "error"
    assert "no-such-set" in panel.status.text()
    assert panel.train_button.isEnabled()


def test_absent_devices_are_greyed_with_the_reason(trained_window, qtbot):
    _, panel = trained_window
    # auto and cpu are offered at once; the probe (which imports torch) fills in the rest
    assert [panel.device.itemData(i) for i in range(2)] == ["auto", "cpu"]
    panel._probe.start()
    model = panel.device.model()
    qtbot.waitUntil(lambda: any(not model.item(i).isEnabled() for i in range(panel.device.count())), timeout=30000)
    absent = [model.item(i) for i in range(panel.device.count()) if not model.item(i).isEnabled()]
    assert absent and all(item.toolTip() for item in absent)
    assert panel.device.itemData(0) == "auto"


def test_settings_form_edits_the_project(trained_window):
    window, panel = trained_window
    panel.editors["optimizer"].setCurrentText("sgd")
    panel.editors["learning_rate"].setValue(0.05)
    assert window.document.project.training["optimizer"] == "sgd"
    assert window.document.project.training["learning_rate"] == pytest.approx(0.05)
    # a settings edit is an unsaved, undoable change like any other
    stack = window.document.undo_stack
    assert not stack.isClean()
    stack.undo()
    assert window.document.project.training["learning_rate"] != pytest.approx(0.05)
    stack.undo()
    assert window.document.project.training["optimizer"] != "sgd"
    assert panel.editors["optimizer"].currentText() == window.document.project.training["optimizer"]

    # Choosing a device is a setting too: saved with the project, undone with Ctrl+Z.
    before = window.document.project.training["device"]
    panel.device.activated.emit(panel.device.findData("cpu"))
    assert window.document.project.training["device"] == "cpu" != before
    stack.undo()
    assert window.document.project.training["device"] == before
    assert panel.device.currentData() == before


def test_float_settings_read_and_type_as_people_write_them(trained_window, qtbot):
    from PySide6.QtCore import Qt

    window, panel = trained_window
    decay = panel.editors["weight_decay"]
    assert decay.text() == "0"  # not 0.00000000
    stack = window.document.undo_stack
    before = stack.count()
    decay.lineEdit().selectAll()
    qtbot.keyClicks(decay.lineEdit(), "1e-5")
    assert window.document.project.training["weight_decay"] == 0  # nothing set while typing
    qtbot.keyClick(decay.lineEdit(), Qt.Key.Key_Return)
    assert window.document.project.training["weight_decay"] == pytest.approx(1e-5)
    assert stack.count() == before + 1
    assert decay.text() == "1e-05"
    assert panel.editors["learning_rate"].text() == f"{window.document.project.training['learning_rate']:g}"
    decay.lineEdit().selectAll()
    qtbot.keyClicks(decay.lineEdit(), "7")  # above the setting's maximum of 1: refused
    qtbot.keyClick(decay.lineEdit(), Qt.Key.Key_Return)
    assert window.document.project.training["weight_decay"] == pytest.approx(1e-5)
    assert "weight_decay" in panel.status.text() and "7" in panel.status.text()

    batch = panel.editors["batch_size"]
    size = window.document.project.training["batch_size"]
    batch.lineEdit().selectAll()
    qtbot.keyClicks(batch.lineEdit(), "0")  # an integer below its minimum: said, not clamped
    qtbot.keyClick(batch.lineEdit(), Qt.Key.Key_Return)
    assert window.document.project.training["batch_size"] == size and batch.value() == size
    assert "batch_size" in panel.status.text() and "0" in panel.status.text()


def test_a_stopped_run_continues_from_the_runs_list(trained_window, qtbot):
    window, panel = trained_window
    window.document.project.training.update(epochs=4, batch_size=128)
    panel.train_button.click()
    qtbot.waitUntil(lambda: panel.point_counts()["val"] >= 1, timeout=30_000)
    with qtbot.waitSignal(panel.runFinished, timeout=20_000) as stopped:
        panel.stop_button.click()
    done = len(stopped.args[0]["history"])
    assert 1 <= done < 4
    item = panel.runs.item(0)
    assert "stopped" in item.text()
    assert not panel.continue_button.isEnabled()  # nothing selected yet
    panel.runs.setCurrentItem(item)
    assert panel.continue_button.isEnabled()
    with qtbot.waitSignal(panel.runFinished, timeout=60_000) as finished:
        panel.continue_button.click()
        assert panel.running and not panel.continue_button.isEnabled()
        assert panel.plots.series["val"].n == done  # the epochs done before are on the curves at once
    outcome = finished.args[0]
    assert outcome["status"] == "completed" and [r["epoch"] for r in outcome["history"]] == [1, 2, 3, 4]
    assert panel.runs.count() == 1 and "completed" in panel.runs.item(0).text()  # the same run, finished
    qtbot.waitUntil(lambda: panel.point_counts()["val"] == 4, timeout=5_000)  # drawn by the next redraw


def test_train_refuses_a_graph_with_every_layer_frozen_and_says_why(trained_window):
    window, panel = trained_window
    window.scene.select_nodes([n.id for n in window.document.graph])
    window.toggle_frozen()
    assert any(p.code == "nothing_to_train" for p in window.document.analysis().problems)
    assert window.ready_label.text().startswith("Not ready")
    panel.train_button.click()
    assert not panel.running and "unfreeze" in panel.status.text()


def test_the_panel_follows_the_document_after_new_and_open(trained_window, qtbot, monkeypatch):
    window, panel = trained_window
    window.document.project.training.update(epochs=1, batch_size=256)
    with qtbot.waitSignal(panel.runFinished, timeout=60_000):
        panel.train_button.click()
    assert panel.status.text() == "Finished" and panel.runs.count() == 1
    panel.runs.setCurrentRow(0)
    panel.runs.item(0).setCheckState(Qt.CheckState.Checked)  # its curve drawn over the live one
    qtbot.waitUntil(lambda: sum(panel.point_counts().values()) > 0)
    assert panel.plots.past_curves

    window.document.undo_stack.setClean()
    monkeypatch.setattr(window, "choose_template", lambda: "")  # an empty project
    assert window.new_project()
    assert panel.status.text() == "Ready" and panel.live.text() == "" and panel.progress.value() == 0
    assert panel.runs.count() == 0 and not panel.continue_button.isEnabled()
    assert not panel.plots.past_curves
    qtbot.waitUntil(lambda: sum(panel.point_counts().values()) == 0)
    assert panel.param_editors["epochs"].widget.value() == window.document.project.training["epochs"]
