"""One entry point for every export format, shared by ``studio export`` and the dialog."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from studio.core.project import Project
from studio.export.errors import ExportError

FORMATS = {
    "onnx": ("ONNX model, checked with onnxruntime", ".onnx"),
    "pytorch": ("Standalone PyTorch code (.py) and its weights (.pt)", ".py"),
    "weights": ("Weights only: .safetensors, or a torch state_dict for .pt", ".safetensors"),
    "torchscript": ("TorchScript program (torch.jit.load)", ".ts.pt"),
    "program": ("torch.export program (torch.export.load)", ".pt2"),
    "keras": ("Keras 3 model (.keras; with code, its functional-API source), run on Keras's torch backend", ".keras"),
}

# The ONNX choices offered by ``studio export`` and the export dialog (torch-free, so
# both can list them before an export runs).
DEFAULT_OPSET = 18
OPSETS = range(13, 22)
EXPORTERS = ("auto", "legacy", "dynamo")  # auto: legacy, falling back to dynamo

# What a format needs beyond Layer Studio's own dependencies: (module, how to install it).
REQUIRES = {"keras": ("keras", 'pip install -e ".[keras]" (or pip install keras)')}


def missing_requirement(fmt: str) -> str | None:
    """What to install before ``fmt`` can be written here, or None."""
    import importlib.util

    if fmt in REQUIRES and importlib.util.find_spec(REQUIRES[fmt][0]) is None:
        return f"the {fmt} format needs the {REQUIRES[fmt][0]} package: {REQUIRES[fmt][1]}"
    return None


def default_suffix(fmt: str) -> str:
    return FORMATS[fmt][1]


def export_project(project: Project, fmt: str, out: str | Path, *, weights=None, opset: int | None = None,
                   exporter: str = "auto", progress: Callable[[str, float], None] | None = None,
                   code: bool = False):
    """Export ``project`` as ``fmt`` to ``out``; returns the format's report (``.to_json()``).
    ``code``: for keras, also its functional-API source beside ``out``."""
    from studio.export import pytorch
    from studio.export.common import build_module  # torch: only once an export runs
    from studio.export.onnx import export_onnx

    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    from studio.data.registry import data_section

    graph = project.graph
    data = data_section(project)  # the sample batch that checks the export comes from it
    step = progress or (lambda what, frac: None)
    step("building the model", 0.02)
    if fmt == "onnx":
        return export_onnx(graph, out, weights=weights, data=data, opset=opset or DEFAULT_OPSET,
                           exporter=exporter, progress=progress)
    if opset is not None:
        raise ExportError("--opset applies to the onnx format only")
    if code and fmt != "keras":
        raise ExportError("--code applies to the keras format only")
    if fmt == "keras":
        missing = missing_requirement(fmt)
        if missing:
            raise ExportError(missing)
        from studio.export.keras import export_keras

        return export_keras(graph, out, weights=weights, data=data, title=project.name, code=code,
                            progress=progress)
    from studio.export.common import prepare

    module = prepare(graph, onnx=False, weights=weights)
    step("exporting", 0.3)
    if fmt == "pytorch":
        report = pytorch.export_pytorch(graph, out, module=module, data=data,
                                        title=project.name)
    elif fmt == "weights":
        report = pytorch.export_weights(graph, out, module=module)
    elif fmt == "torchscript":
        report = pytorch.export_torchscript(graph, out, module=module, data=data)
    else:
        report = pytorch.export_program(graph, out, module=module, data=data)
    step("done", 1.0)
    return report
