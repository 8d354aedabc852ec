"""PyTorch exports: standalone code + weights, plain weights, TorchScript and a
``torch.export`` program. Each is checked against the app's model before it is written."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from studio.compile.codegen import CodegenError, generate
from studio.compile.module import GraphModule
from studio.core.atomic import atomic_path, atomic_write_bytes
from studio.core.graph import Graph
from studio.export.common import build_module, prepare, sample_inputs
from studio.export.errors import ExportError
from studio.export.weights import state_bytes


@dataclass
class ExportReport:
    format: str
    files: list[str]
    size_bytes: int
    max_diff: float | None = None
    checks: list[dict] = field(default_factory=list)
    sample: str = ""
    seconds: float = 0.0
    note: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def _outputs(result) -> tuple[torch.Tensor, ...]:
    return result if isinstance(result, tuple) else (result,)


def _max_diff(a, b) -> float:
    worst = 0.0
    for x, y in zip(_outputs(a), _outputs(b)):
        if x.shape != y.shape:
            return float("inf")
        worst = max(worst, (x.double() - y.double()).abs().max().item() if x.numel() else 0.0)
    return worst


def export_pytorch(graph: Graph, path: str | Path, *, weights=None, module: GraphModule | None = None,
                   data: dict | None = None, class_name: str = "Model", title: str = "") -> ExportReport:
    """Write ``path`` (a ``.py`` file) and its weights next to it (same name, ``.pt``);
    importing the file and loading the weights must reproduce the app's outputs exactly."""
    started = time.perf_counter()
    path = Path(path)
    if path.suffix != ".py":
        path = path.with_suffix(".py")
    weights_path = path.with_suffix(".pt")
    module = prepare(graph, onnx=False, weights=weights, module=module)
    try:
        code = generate(graph, class_name, title, weights_path.name, plan=module.plan)
    except CodegenError as exc:
        raise ExportError(str(exc)) from None
    state = code.rename_state(module.state_dict())
    blob = state_bytes(state, "state_dict")
    sample = sample_inputs(module, data, graph)
    checks = []
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / path.name
        trial.write_text(code.source, encoding="utf-8")
        (Path(tmp) / weights_path.name).write_bytes(blob)
        generated = _instantiate(trial, class_name)
        generated.load_state_dict(torch.load(Path(tmp) / weights_path.name, weights_only=True))
        generated.eval()
        with torch.no_grad():
            for case, xs in [("data", sample.inputs), *sample.extra]:
                diff = _max_diff(module(*xs), generated(*xs))
                checks.append({"case": case, "max_diff": diff})
                if diff != 0.0:
                    raise ExportError(f"the generated code does not reproduce the app's outputs on {case} "
                                      f"(max difference {diff:.3g}); nothing was written")
    with atomic_path(weights_path) as wtmp, atomic_path(path) as ctmp:
        wtmp.write_bytes(blob)
        ctmp.write_text(code.source, encoding="utf-8")
    return ExportReport("pytorch", [str(path), str(weights_path)], len(blob) + len(code.source.encode()),
                        0.0, checks, sample.source, time.perf_counter() - started)


def _instantiate(source: Path, class_name: str):
    name = f"_studio_generated_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, source)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
        return getattr(mod, class_name)()
    except Exception as exc:
        raise ExportError(f"the generated code does not run: {exc}") from None
    finally:
        sys.modules.pop(name, None)


def export_weights(graph: Graph, path: str | Path, *, weights=None, module: GraphModule | None = None) -> ExportReport:
    """The compiled module's state_dict: ``.safetensors``, or a torch state_dict for any other suffix."""
    started = time.perf_counter()
    path = Path(path)
    module = module or build_module(graph, weights)
    fmt = "safetensors" if path.suffix.lower() == ".safetensors" else "state_dict"
    blob = state_bytes(module.state_dict(), fmt)
    atomic_write_bytes(path, blob)
    return ExportReport("weights", [str(path)], len(blob), seconds=time.perf_counter() - started,
                        note=f"{fmt}; keys are layers.<node>.<parameter>")


def export_torchscript(graph: Graph, path: str | Path, *, weights=None, module: GraphModule | None = None,
                       data: dict | None = None, tolerance: float = 1e-5) -> ExportReport:
    """A traced TorchScript program, checked at a second batch size (and length)."""
    started = time.perf_counter()
    module = prepare(graph, onnx=False, weights=weights, module=module)
    sample = sample_inputs(module, data, graph)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, sample.inputs, check_trace=False)
            buf = io.BytesIO()
            torch.jit.save(traced, buf)
            loaded = torch.jit.load(io.BytesIO(buf.getvalue()))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"TorchScript tracing failed: {first}") from None
    checks = []
    with torch.no_grad():
        for case, xs in [("data", sample.inputs), *sample.extra]:
            try:
                diff = _max_diff(module(*xs), loaded(*xs))
            except Exception as exc:
                raise ExportError(f"the TorchScript program does not run on {case}: "
                                  f"{str(exc).strip().splitlines()[-1]}") from None
            checks.append({"case": case, "max_diff": diff})
            if not diff <= tolerance:
                raise ExportError(f"the TorchScript program differs by {diff:.3g} on {case}; nothing was written")
    blob = buf.getvalue()
    atomic_write_bytes(path, blob)
    return ExportReport("torchscript", [str(path)], len(blob), max(c["max_diff"] for c in checks), checks,
                        sample.source, time.perf_counter() - started, "load with torch.jit.load")


def export_program(graph: Graph, path: str | Path, *, weights=None, module: GraphModule | None = None,
                   data: dict | None = None, tolerance: float = 1e-5) -> ExportReport:
    """A ``torch.export`` program (``.pt2``) with a dynamic batch axis."""
    started = time.perf_counter()
    module = prepare(graph, onnx=False, weights=weights, module=module)
    sample = sample_inputs(module, data, graph)
    from torch.export import Dim

    shapes = tuple({0: Dim.AUTO} for _ in sample.inputs)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            program = torch.export.export(module, tuple(sample.inputs), dynamic_shapes=(shapes,))
            buf = io.BytesIO()
            torch.export.save(program, buf)
            loaded = torch.export.load(io.BytesIO(buf.getvalue())).module()
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"torch.export failed: {first}") from None
    checks = []
    with torch.no_grad():
        for case, xs in [("data", sample.inputs), *sample.extra[:1]]:
            diff = _max_diff(module(*xs), loaded(*xs))
            checks.append({"case": case, "max_diff": diff})
            if not diff <= tolerance:
                raise ExportError(f"the exported program differs by {diff:.3g} on {case}; nothing was written")
    blob = buf.getvalue()
    atomic_write_bytes(path, blob)
    return ExportReport("program", [str(path)], len(blob), max(c["max_diff"] for c in checks), checks,
                        sample.source, time.perf_counter() - started, "load with torch.export.load")
