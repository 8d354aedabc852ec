"""``studio export``: write a project's model as ONNX, PyTorch code, weights or TorchScript,
checked against the app's own model before anything is written."""

from __future__ import annotations

import argparse
import warnings

from studio.cli._args import output_problem
from studio.cli._output import emit_json, error, human_bytes
from studio.core.errors import StudioError
from studio.core.project import load


def add_arguments(p: argparse.ArgumentParser) -> None:
    from studio.export.formats import FORMATS

    p.add_argument("project", help="project file (.json)")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="what to write")
    p.add_argument("--out", required=True, help="output file (for pytorch, the .py; its .pt goes beside it)")
    p.add_argument("--weights", default=None,
                   help="run folder, .safetensors or state_dict/checkpoint file (default: the project's "
                        "<name>.weights.safetensors if there is one, else random weights)")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default 18)")
    p.add_argument("--exporter", choices=("auto", "legacy", "dynamo"), default="auto",
                   help="ONNX exporter: auto (legacy, falling back to dynamo), legacy or dynamo")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    from studio.export.common import quiet_native_stderr
    from studio.export.errors import ExportError
    from studio.export.formats import export_project
    from studio.export.onnx import OPSETS
    from studio.export.weights import WeightsError
    from studio.transfer import weights_for_export

    if args.opset is not None and args.format != "onnx":
        return _fail(args, f"--opset applies to the onnx format only, not {args.format}", 2)
    if args.opset is not None and args.opset not in OPSETS:
        return _fail(args, f"--opset {args.opset} is not supported; choose {OPSETS.start}-{OPSETS.stop - 1}", 2)
    problem = output_problem(args.out)
    if problem:
        return _fail(args, f"--out: {problem}", 2)
    try:
        project = load(args.project)
    except StudioError as exc:
        return _fail(args, str(exc), 2)
    if args.weights is None and project.path is not None:
        p = project.path
        beside = p.with_name(p.stem + ".weights.safetensors")
        if beside.is_file():  # an imported model's weights, or a project's starting weights
            args.weights = str(beside)
            if args.json:
                emit_json({"type": "info", "message": f"using the weights beside the project: {beside}"})
            else:
                error(f"using the weights beside the project: {beside}")
    if args.weights is None:
        warning = "no --weights given: exporting randomly initialised weights"
        if args.json:
            emit_json({"type": "warning", "message": warning})
        else:
            error(f"warning: {warning}")

    try:
        weights, start = weights_for_export(project, args.weights)
    except WeightsError as exc:
        return _fail(args, str(exc), 2)
    if start is not None and start.skipped:  # e.g. a transfer template's new head
        warning = start.fresh_note()
        if args.json:
            emit_json({"type": "warning", "message": warning, "transfer": start.to_json()})
        else:
            error(f"warning: {warning}")

    def progress(what: str, frac: float) -> None:
        if args.json:
            emit_json({"type": "progress", "step": what, "fraction": round(frac, 2)})

    try:
        with warnings.catch_warnings(), quiet_native_stderr():
            warnings.simplefilter("ignore")
            report = export_project(project, args.format, args.out, weights=weights, opset=args.opset,
                                    exporter=args.exporter, progress=progress)
    except WeightsError as exc:
        return _fail(args, str(exc), 2)
    except (ExportError, StudioError) as exc:
        return _fail(args, str(exc), 1)
    summary = {"type": "summary", "ok": True, "project": str(args.project), **report.to_json()}
    if args.json:
        emit_json(summary)
    else:
        files = getattr(report, "files", None) or [report.path]
        print(f"wrote {', '.join(files)} ({human_bytes(report.size_bytes)})")
        if args.format == "onnx":
            print(f"opset {report.opset}, inputs {report.inputs}, outputs {report.outputs}, "
                  f"dynamic axes {report.dynamic_axes}")
        for c in report.checks:
            print(f"  check on {c['case']}: max difference {c['max_diff']:.3g}")
        if report.checks:
            print(f"  checked on {report.sample}")
    return 0


def _fail(args, message: str, code: int) -> int:
    if args.json:
        emit_json({"type": "summary", "ok": False, "project": str(args.project), "message": message})
    error(message)
    return code
