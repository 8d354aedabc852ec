"""A bench of a real project on this machine's CPU and ONNX Runtime, and devices that
fail on the way: each failure is that device's result, and the bench goes on."""

from __future__ import annotations

import pytest
import torch

from studio.bench.measure import Settings
from studio.bench.runner import ABSENT, FAILED, OK, Bench
from studio.bench.targets import ORT, TORCH, Target
from studio.core.project import load
from studio.resources import template_path

QUICK = Settings(repeats=2, round_s=0.005, max_repeats=6, budget_s=2.0)
CPU = Target("torch cpu 1 thread", TORCH, "cpu", "Test CPU", threads=1)
ORT_CPU = Target("onnxruntime cpu", ORT, "cpu", "ONNX Runtime CPU", threads=1, provider="CPUExecutionProvider")


@pytest.fixture(scope="module")
def digits():
    project = load(template_path("cnn_digits"))
    project.training.update(batch_size=32)
    return project


def test_cpu_and_onnxruntime_give_every_figure(digits):
    bench = Bench(digits, batch_sizes=(1, 4), settings=QUICK)
    ctx = bench.setup()
    assert ctx.flops_per_sample > 0 and ctx.input_source == "4 samples of the project's data"
    cpu, ort = list(bench.run([CPU, ORT_CPU]))
    assert cpu.status == OK and ort.status == OK, (cpu.reason, ort.reason)
    assert cpu.train["samples_per_s"] > 0 and cpu.train["batch_size"] == 32 and cpu.train["repeats"] >= 2
    for r in (cpu, ort):
        assert 0 < r.latency["p50_ms"] <= r.latency["p99_ms"] and r.latency["batch_size"] == 1
        assert [t["batch_size"] for t in r.throughput] == [1, 4]
        assert all(t["samples_per_s"] > 0 and t["spread"] >= 0 for t in r.throughput)
        assert r.peak["flops_per_s"] > 0 and r.peak["matmul"] == 1024
        assert r.percent_of_peak["inference"] > 0
    assert cpu.percent_of_peak["train"] > 0
    assert ort.train is None and ort.train_note == "ONNX Runtime runs inference only"


@pytest.mark.skipif(torch.backends.cuda.is_built(), reason="the failure quoted is a CPU-only torch's")
def test_a_device_that_is_not_there_fails_alone(digits, monkeypatch):
    """A CUDA device the probe reported (monkeypatched here) that cannot run: its line
    says why, and the CPU after it is still measured."""
    ghost = Target("torch cuda:0", TORCH, "cuda:0", "Ghost GPU")
    absent = Target("torch mps", TORCH, "mps", "Apple GPU (MPS)", False, "no Apple GPU available")
    bench = Bench(digits, batch_sizes=(2,), settings=QUICK, train=False)
    results = list(bench.run([ghost, absent, CPU]))
    assert [r.status for r in results] == [FAILED, ABSENT, OK]
    assert results[0].reason == "AssertionError: Torch not compiled with CUDA enabled"  # torch's own words
    assert results[1].reason == "no Apple GPU available"
    assert results[2].throughput and results[2].train_note == "training not asked for"


def test_out_of_memory_is_reported_for_that_device(digits, monkeypatch):
    calls = []

    def tight(self, target):
        calls.append(target.id)
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return {"samples_per_s": 1.0, "batch_size": 32, "repeats": 2, "spread": 0.0, "stable": True}

    monkeypatch.setattr(Bench, "_train", tight)
    bench = Bench(digits, batch_sizes=(2,), settings=QUICK)
    first, second = bench.run([CPU, Target("torch cpu 2 threads", TORCH, "cpu", "Test CPU", threads=2)])
    assert first.status == FAILED and first.reason.startswith("out of memory: ")
    assert second.status == OK and second.throughput


def test_a_project_without_data_is_measured_on_random_inputs(digits):
    project = load(template_path("cnn_digits"))
    project.data = {}
    bench = Bench(project, batch_sizes=(2,), settings=QUICK)
    ctx = bench.setup()
    assert ctx.data_note.startswith("no training figures: the data does not load")
    assert "random inputs" in ctx.input_source
    (result,) = bench.run([CPU])
    assert result.status == OK and result.train is None and result.train_note == ctx.data_note
    assert result.throughput[0]["samples_per_s"] > 0


def test_an_lstm_project_runs_on_onnxruntime_too():
    project = load(template_path("lstm_speech"))
    bench = Bench(project, batch_sizes=(2,), settings=QUICK, train=False)
    (cpu, ort) = bench.run([CPU, ORT_CPU])
    assert cpu.status == OK and ort.status == OK, (cpu.reason, ort.reason)
