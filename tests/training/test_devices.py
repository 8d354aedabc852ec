from types import SimpleNamespace

import pytest
import torch

from studio.training.devices import DeviceError, list_devices, resolve_device


def by_id(devices):
    return {d.id: d for d in devices}


def test_cpu_is_always_listed_with_cores_and_a_name():
    cpu = by_id(list_devices())["cpu"]
    assert cpu.available and cpu.cores >= 1 and cpu.name


def test_a_cpu_build_lists_cuda_mps_and_xla_as_absent_with_reasons(monkeypatch):
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: False)
    devices = by_id(list_devices())
    assert not devices["cuda"].available and "CPU-only build" in devices["cuda"].reason
    assert not devices["mps"].available and "MPS" in devices["mps"].reason
    assert not devices["xla"].available and "torch_xla" in devices["xla"].reason
    with pytest.raises(DeviceError, match="cuda is not available: this PyTorch is a CPU-only build"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"


def fake_cuda(monkeypatch, count):
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    names = ["Tesla T4", "A100-SXM4-40GB"]
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda i: SimpleNamespace(name=names[i], total_memory=(16 << 30) * (i + 1)))


def test_each_cuda_device_is_listed_with_name_and_memory(monkeypatch):
    fake_cuda(monkeypatch, 2)
    devices = by_id(list_devices())
    assert devices["cuda:0"].name == "Tesla T4" and devices["cuda:0"].memory == 16 << 30
    assert devices["cuda:1"].name == "A100-SXM4-40GB" and devices["cuda:1"].available
    assert resolve_device("auto") == torch.device("cuda:0")
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(DeviceError, match="2 CUDA device"):
        resolve_device("cuda:5")


def test_a_cuda_build_without_a_gpu_says_so(monkeypatch):
    fake_cuda(monkeypatch, 0)
    cuda = by_id(list_devices())["cuda"]
    assert not cuda.available and "no CUDA device found" in cuda.reason


def test_mps_built_but_unavailable(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    mps = by_id(list_devices())["mps"]
    assert not mps.available and "Apple GPU" in mps.reason


def test_unknown_device_names_the_choices():
    with pytest.raises(DeviceError, match="auto, cpu, cuda"):
        resolve_device("gpu7")
