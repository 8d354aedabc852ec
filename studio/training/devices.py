"""What the machine can train on: CPU, each CUDA device, Apple MPS, XLA (TPU).

Absent devices are listed too, each with the reason, so the UI can grey them out and
say why. The CPU line needs no torch, and neither does an accelerator that this install
cannot have (a CPU-only torch build has no CUDA, MPS exists only on macOS, XLA needs
torch_xla): torch is imported only to probe one that it could have.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass

from studio.core.errors import StudioError


class DeviceError(StudioError):
    pass


@dataclass(frozen=True)
class Device:
    id: str  # what --device takes: cpu, cuda:0, mps, xla
    kind: str
    name: str
    available: bool
    reason: str = ""  # why it is unavailable
    memory: int | None = None  # bytes
    cores: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def list_devices() -> list[Device]:
    out = [Device("cpu", "cpu", cpu_name(), True, cores=os.cpu_count())]
    loaded = sys.modules.get("torch")  # already imported: probing with it costs nothing
    if loaded is None and not built_with_gpu():
        out.append(Device("cuda", "cuda", "CUDA GPU", False, NO_CUDA_BUILD))
    else:
        out += _cuda(_torch())
    if loaded is None and sys.platform != "darwin":
        out.append(Device("mps", "mps", "Apple GPU (MPS)", False, NO_MPS_BUILD))
    else:
        out.append(_mps(_torch()))
    out.append(_xla())
    return out


NO_CUDA_BUILD = "this PyTorch is a CPU-only build (no CUDA support)"
NO_MPS_BUILD = "this PyTorch has no MPS support (macOS builds only)"


def _torch():
    import torch

    return torch


def built_with_gpu() -> bool:
    """Whether the installed torch was built for CUDA or ROCm, read from its
    ``torch/version.py`` without importing torch; True when that cannot be told."""
    import ast
    import importlib.util

    try:
        spec = importlib.util.find_spec("torch")
        folder = (spec.submodule_search_locations or [None])[0] if spec else None
        if folder is None:
            return True
        with open(os.path.join(folder, "version.py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError, ImportError):
        return True
    values = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant):
            values[target.id] = node.value.value
    if "cuda" not in values or "hip" not in values:
        return True
    return values["cuda"] is not None or values["hip"] is not None


def auto_device_id(devices: list[Device]) -> str:
    """What ``auto`` picks: the first CUDA device, else MPS, else the CPU."""
    for kind in ("cuda", "mps"):
        for d in devices:
            if d.kind == kind and d.available:
                return d.id
    return "cpu"


def _cuda(torch) -> list[Device]:
    if not torch.backends.cuda.is_built() or torch.version.cuda is None and torch.version.hip is None:
        return [Device("cuda", "cuda", "CUDA GPU", False, NO_CUDA_BUILD)]
    try:
        count = torch.cuda.device_count()
    except Exception as exc:  # a broken driver raises here
        return [Device("cuda", "cuda", "CUDA GPU", False, f"the CUDA driver failed: {exc}")]
    if count == 0 or not torch.cuda.is_available():
        return [Device("cuda", "cuda", "CUDA GPU", False, "no CUDA device found (or no driver)")]
    devices = []
    for i in range(count):
        props = torch.cuda.get_device_properties(i)
        devices.append(Device(f"cuda:{i}", "cuda", props.name, True, memory=int(props.total_memory)))
    return devices


def _mps(torch) -> Device:
    backend = getattr(torch.backends, "mps", None)
    if backend is None or not backend.is_built():
        return Device("mps", "mps", "Apple GPU (MPS)", False, NO_MPS_BUILD)
    if not backend.is_available():
        return Device("mps", "mps", "Apple GPU (MPS)", False, "no Apple GPU available (needs macOS 12.3+ on Apple silicon)")
    return Device("mps", "mps", "Apple GPU (MPS)", True)


def _xla() -> Device:
    import importlib.util

    if importlib.util.find_spec("torch_xla") is None:
        return Device("xla", "xla", "XLA (TPU)", False, "torch_xla is not installed")
    try:
        import torch_xla.core.xla_model as xm  # noqa: F401
    except ImportError:
        return Device("xla", "xla", "XLA (TPU)", False, "torch_xla is not installed")
    except Exception as exc:
        return Device("xla", "xla", "XLA (TPU)", False, f"torch_xla failed to load: {exc}")
    try:
        import torch_xla

        name = str(torch_xla.device())
    except Exception as exc:
        return Device("xla", "xla", "XLA (TPU)", False, f"no XLA device: {exc}")
    return Device("xla", "xla", f"XLA ({name})", True)


def resolve_device(spec: str | None, devices: list[Device] | None = None):
    """A ``torch.device`` for ``cpu``, ``cuda``, ``cuda:N``, ``mps``, ``xla`` or
    ``auto`` (the first GPU, else CPU). Raises :class:`DeviceError` with the reason."""
    import torch

    spec = (spec or "auto").strip().lower()
    devices = devices if devices is not None else list_devices()
    if spec == "auto":
        return torch.device(auto_device_id(devices))
    if spec == "cpu":
        return torch.device("cpu")
    kind, _, index = spec.partition(":")
    if kind not in ("cuda", "mps", "xla") or (index and (kind != "cuda" or not index.isdigit())):
        raise DeviceError(f"unknown device {spec!r}: use auto, cpu, cuda, cuda:N, mps or xla")
    same_kind = [d for d in devices if d.kind == kind]
    usable = [d for d in same_kind if d.available]
    if not usable:
        reason = same_kind[0].reason if same_kind else "not found"
        raise DeviceError(f"device {spec} is not available: {reason}")
    if kind == "cuda":
        want = f"cuda:{index or 0}"
        if want not in {d.id for d in usable}:
            raise DeviceError(f"device {spec} is not available: there are {len(usable)} CUDA device(s) "
                              f"({', '.join(d.id for d in usable)})")
        return torch.device(want)
    if kind == "xla":
        import torch_xla

        return torch_xla.device()
    return torch.device(kind)
