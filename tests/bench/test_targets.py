"""What a bench measures: the CPU at one thread and at all cores but one, each CUDA
device plain and with mixed precision and channels_last, MPS, XLA, and each ONNX Runtime
provider; absent ones with the reason `studio devices` gives."""

from __future__ import annotations

import pytest

from studio.bench.targets import list_targets, parse_selection, select
from studio.training.devices import Device


def _devices(cores=8):
    return [Device("cpu", "cpu", "Test CPU", True, cores=cores),
            Device("cuda:0", "cuda", "Test GPU", True, memory=8 << 30),
            Device("cuda:1", "cuda", "Test GPU 2", True, memory=8 << 30),
            Device("mps", "mps", "Apple GPU (MPS)", False, "no Apple GPU available"),
            Device("xla", "xla", "XLA (TPU)", False, "torch_xla is not installed")]


def test_every_configuration_of_every_device(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    targets = list_targets(_devices(), providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    ids = [t.id for t in targets]
    assert ids[:6] == ["torch cpu 1 thread", "torch cpu 7 threads", "torch cuda:0", "torch cuda:0 amp channels_last",
                       "torch cuda:1", "torch cuda:1 amp channels_last"]
    amp = targets[3]
    assert amp.device == "cuda:0" and amp.amp and amp.channels_last and amp.available
    absent = {t.id: t.reason for t in targets if not t.available}
    assert absent["torch mps"] == "no Apple GPU available"
    assert absent["torch xla"] == "torch_xla is not installed"
    assert "onnxruntime cpu" not in absent and "onnxruntime cuda" not in absent
    assert "onnxruntime-openvino" in absent["onnxruntime openvino"]
    assert {"onnxruntime tensorrt", "onnxruntime coreml", "onnxruntime directml"} <= set(absent)


def test_two_cores_give_one_cpu_line_and_say_why(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    targets = list_targets(_devices(cores=2)[:1], providers=["CPUExecutionProvider"])
    assert [t.id for t in targets if t.available] == ["torch cpu 1 thread", "onnxruntime cpu"]
    line = next(t for t in targets if t.id == "torch cpu all but one core")
    assert "2 core(s)" in line.reason


def test_selection_by_device_and_provider(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    targets = list_targets(_devices(), providers=["CPUExecutionProvider"])
    chosen, unmatched = select(targets, parse_selection("cuda:1,onnxruntime:cpu"))
    assert [t.id for t in chosen] == ["torch cuda:1", "torch cuda:1 amp channels_last", "onnxruntime cpu"]
    assert unmatched == []
    chosen, unmatched = select(targets, parse_selection("cpu,cuda:5"))
    assert [t.id for t in chosen] == ["torch cpu 1 thread", "torch cpu 7 threads"]
    assert unmatched == ["cuda:5"]
    assert [t.id for t in select(targets, ["mps"])[0]] == ["torch mps"]  # absent, with its reason


@pytest.mark.parametrize("text", ["", "gpu", "cuda:x", "onnxruntime:nosuch"])
def test_a_bad_selection_names_the_word(text):
    with pytest.raises(ValueError) as info:
        parse_selection(text)
    assert (repr(text) if text else "no device named") in str(info.value)
