"""What a bench can measure on this machine, and why the rest is absent.

Torch targets come from :func:`studio.training.devices.list_devices` (the list ``studio
devices`` prints, with its reasons); ONNX Runtime targets from the execution providers
the installed onnxruntime was built with.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

TORCH, ORT = "torch", "onnxruntime"

# provider -> (short name, device it runs on, what to install for it)
PROVIDERS = {
    "CPUExecutionProvider": ("cpu", "cpu", "onnxruntime"),
    "CUDAExecutionProvider": ("cuda", "cuda", "onnxruntime-gpu"),
    "TensorrtExecutionProvider": ("tensorrt", "cuda", "onnxruntime-gpu with TensorRT"),
    "OpenVINOExecutionProvider": ("openvino", "openvino", "onnxruntime-openvino"),
    "CoreMLExecutionProvider": ("coreml", "coreml", "onnxruntime on macOS"),
    "DmlExecutionProvider": ("directml", "directml", "onnxruntime-directml on Windows"),
}


@dataclass(frozen=True)
class Target:
    id: str  # "torch cpu 1 thread", "torch cuda:0 amp channels_last", "onnxruntime cpu"
    engine: str  # torch or onnxruntime
    device: str  # torch device id (cpu, cuda:0, mps, xla) or the provider's device
    name: str  # the hardware, as studio devices names it
    available: bool = True
    reason: str = ""  # why it is absent
    threads: int | None = None  # CPU threads (torch.set_num_threads / intra_op_num_threads)
    amp: bool = False  # CUDA autocast to float16
    channels_last: bool = False
    provider: str | None = None  # ONNX Runtime execution provider

    def to_json(self) -> dict:
        return asdict(self)


def cpu_threads() -> tuple[int, int]:
    """(1, all cores but one): the two CPU configurations measured."""
    cores = os.cpu_count() or 1
    return 1, max(1, cores - 1)


def list_targets(devices=None, providers: list[str] | None = None) -> list[Target]:
    """Every target, available or not, in the order a bench measures them. ``devices``
    (a ``list_devices()`` result) and ``providers`` (onnxruntime's available providers)
    are probed when not given."""
    from studio.training.devices import list_devices

    devices = list_devices() if devices is None else devices
    out: list[Target] = []
    one, most = cpu_threads()
    for d in devices:
        if not d.available:
            out.append(Target(f"torch {d.id}", TORCH, d.id, d.name, False, d.reason))
        elif d.kind == "cpu":
            out.append(Target("torch cpu 1 thread", TORCH, "cpu", d.name, threads=one))
            if most > one:
                out.append(Target(f"torch cpu {most} threads", TORCH, "cpu", d.name, threads=most))
            else:
                out.append(Target("torch cpu all but one core", TORCH, "cpu", d.name, False,
                                  f"this machine has {d.cores or 1} core(s): all but one is the 1-thread line"))
        elif d.kind == "cuda":
            out.append(Target(f"torch {d.id}", TORCH, d.id, d.name))
            out.append(Target(f"torch {d.id} amp channels_last", TORCH, d.id, d.name, amp=True, channels_last=True))
        else:
            out.append(Target(f"torch {d.id}", TORCH, d.id, d.name))
    out += ort_targets(providers)
    return out


def ort_targets(providers: list[str] | None = None) -> list[Target]:
    if providers is None:
        try:
            import onnxruntime as ort

            providers = list(ort.get_available_providers())
        except Exception as exc:  # not installed, or a broken build
            return [Target("onnxruntime", ORT, "cpu", "ONNX Runtime", False, f"onnxruntime does not load: {exc}")]
    _, most = cpu_threads()
    out = []
    for provider, (short, device, package) in PROVIDERS.items():
        name = f"ONNX Runtime {provider.removesuffix('ExecutionProvider')}"
        if provider in providers:
            out.append(Target(f"onnxruntime {short}", ORT, device, name, threads=most if device == "cpu" else None,
                              provider=provider))
        else:
            out.append(Target(f"onnxruntime {short}", ORT, device, name, False,
                              f"this onnxruntime has no {provider} (it comes with {package})", provider=provider))
    return out


def parse_selection(text: str) -> list[str]:
    """``--devices``: ``all`` or a comma list of cpu, cuda, cuda:N, mps, xla, onnxruntime
    and onnxruntime:PROVIDER (cpu, cuda, tensorrt, openvino, coreml, directml). Raises
    ValueError naming the first word that is none of these."""
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if not words:
        raise ValueError("no device named; use all, or a comma list such as cpu,cuda:0,onnxruntime")
    shorts = {s for s, _, _ in PROVIDERS.values()}
    for w in words:
        kind, _, rest = w.partition(":")
        ok = (w in ("all", "cpu", "cuda", "mps", "xla", "onnxruntime", "ort")
              or (kind == "cuda" and rest.isdigit())
              or (kind in ("onnxruntime", "ort") and rest in shorts))
        if not ok:
            raise ValueError(f"{w!r} is not a device; use all, cpu, cuda, cuda:N, mps, xla, onnxruntime "
                             f"or onnxruntime:{'|'.join(sorted(shorts))}")
    return words


def select(targets: list[Target], words: list[str]) -> tuple[list[Target], list[str]]:
    """The targets ``words`` ask for, and the words that matched no target at all."""
    if "all" in words:
        return list(targets), []
    chosen, unmatched = [], []
    for w in words:
        hits = [t for t in targets if _matches(t, w)]
        if not hits:
            unmatched.append(w)
        chosen += [t for t in hits if t not in chosen]
    return [t for t in targets if t in chosen], unmatched


def _matches(t: Target, word: str) -> bool:
    kind, _, rest = word.partition(":")
    if kind in ("onnxruntime", "ort"):
        return t.engine == ORT and (not rest or PROVIDERS.get(t.provider or "", ("",))[0] == rest)
    if t.engine != TORCH:
        return False
    if word == "cuda":  # every CUDA device, or the line saying why there is none
        return t.device.startswith("cuda")
    return t.device == word
