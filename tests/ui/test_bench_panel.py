"""The Bench panel: a bench on a worker thread, one table row and one bar per device as
results arrive, absent devices with their reason, and the last kept bench drawn beside."""

from __future__ import annotations

import json

import pytest

from studio.bench.targets import ORT, TORCH, Target

CPU = Target("torch cpu 1 thread", TORCH, "cpu", "Test CPU", threads=1)
ORT_CPU = Target("onnxruntime cpu", ORT, "cpu", "ONNX Runtime CPU", threads=1, provider="CPUExecutionProvider")
ABSENT = Target("torch cuda", TORCH, "cuda", "CUDA GPU", False, "this PyTorch is a CPU-only build (no CUDA support)")


@pytest.fixture
def quick(monkeypatch):
    """A short bench over three known targets (the probe is replaced, not the measuring)."""
    from studio.bench import runner
    from studio.bench.measure import Settings

    real = runner.bench_project

    def short(project, **kw):
        kw.update(settings=Settings(repeats=2, round_s=0.005, max_repeats=4, budget_s=1.0),
                  targets=[CPU, ABSENT, ORT_CPU])
        return (yield from real(project, **kw))

    monkeypatch.setattr(runner, "bench_project", short)


@pytest.fixture
def digits_window(make_window, tmp_path):
    import torch

    from studio.core.project import load
    from studio.resources import template_path

    torch.set_num_threads(1)
    project = load(template_path("cnn_digits"))
    project.training.update(batch_size=32)
    project.path = tmp_path / "digits.json"
    project.save()
    return make_window(project, plugins=True)


def test_a_bench_fills_the_table_and_the_bars_and_is_kept(digits_window, quick, qtbot, tmp_path):
    window = digits_window
    panel = window.bench_panel
    assert "Bench on every device" in [a.text() for a in window.menu("&Train").actions()]
    panel.batch_sizes.setText("1,4")
    panel.start()
    assert panel.running and not panel.run_button.isEnabled() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    assert panel.error == ""
    rows = [[panel.table.item(r, c).text() for c in range(panel.table.columnCount())]
            for r in range(panel.table.rowCount())]
    assert [r[0] for r in rows] == ["torch cpu 1 thread", "torch cuda", "onnxruntime cpu"]
    assert [r[1] for r in rows] == ["ok", "absent", "ok"]
    assert rows[1][-1] == "this PyTorch is a CPU-only build (no CUDA support)"
    assert rows[0][2] and rows[0][5] and rows[2][5] and not rows[2][2]  # ONNX Runtime: inference only
    labels, now, _ = panel.figure_values()
    assert labels == ["cpu 1t", "ort cpu"] and all(v > 0 for v in now)
    assert len(panel.bars_now.opts["height"]) == 2
    assert "2 measured, 0 failed, 1 absent; kept in " in panel.status.text()
    saved = json.loads(open(panel.saved).read())
    assert [t["target"]["id"] for t in saved["targets"]] == [r[0] for r in rows]

    panel.figure.setCurrentText("Training samples/s")
    labels, now, _ = panel.figure_values()
    assert labels == ["cpu 1t"]

    panel.reset()  # as when the project is opened again: the kept bench is drawn in grey
    labels, now, old = panel.figure_values()
    assert labels == ["cpu 1t"] and old[0] == saved["targets"][0]["train"]["samples_per_s"]
    assert len(panel.bars_then.opts["height"]) == 1 and len(panel.bars_now.opts["height"]) == 0


def test_bad_batch_sizes_are_refused_before_anything_runs(digits_window):
    panel = digits_window.bench_panel
    panel.batch_sizes.setText("1,x")
    panel.start()
    assert not panel.running and "batch sizes '1,x'" in panel.error


def test_opening_another_project_mid_bench_drops_the_old_benchs_rows(digits_window, quick, qtbot):
    panel = digits_window.bench_panel
    panel.batch_sizes.setText("2")
    panel.start()
    qtbot.waitUntil(lambda: panel.status.text().startswith("measuring"), timeout=60_000)
    panel.reset()
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    assert panel.entries == [] and panel.table.rowCount() == 0 and panel.saved is None
    assert panel.status.text().startswith("Measures training and inference speed")
