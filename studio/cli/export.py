"""``studio export``: write a project's model as ONNX, PyTorch code, weights or TorchScript,
checked against the app's own model before anything is written."""

from __future__ import annotations

import argparse
import warnings

from studio.cli._args import output_problem
from studio.cli._output import emit_json, error, human_bytes
from studio.cli._progress import steps
from studio.core.errors import StudioError
from studio.core.project import load, weights_beside


def add_arguments(p: argparse.ArgumentParser) -> None:
    from studio.export.formats import DEFAULT_OPSET, EXPORTERS, FORMATS

    p.add_argument("project", help="project file (.json)")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="what to write")
    p.add_argument("--out", required=True, help="output file (for pytorch, the .py; its .pt goes beside it)")
    p.add_argument("--weights", default=None,
                   help="run folder, .safetensors or state_dict/checkpoint file (default: the project's "
                        "<name>.weights.safetensors if there is one, else random weights)")
    p.add_argument("--opset", type=int, default=None, help=f"ONNX opset (default {DEFAULT_OPSET})")
    p.add_argument("--exporter", choices=EXPORTERS, default="auto",
                   help="ONNX exporter: auto (legacy, falling back to dynamo), legacy or dynamo")
    p.add_argument("--quantize", choices=("int8",), default=None,
                   help="onnx only: int8 (static QDQ calibrated on the training data; dynamic for LSTM or "
                        "Linear-only models), checked against the float model on the validation data")
    p.add_argument("--precision", choices=("fp32", "fp16"), default="fp32",
                   help="onnx only: fp16 writes a float16 model (for GPUs), checked like --quantize")
    p.add_argument("--calibration", type=_count, default=None,
                   help="batches of training data that calibrate int8 (default 16)")
    p.add_argument("--max-drop", type=_points, default=None,
                   help="refuse the int8/fp16 model when the task metric drops more than this many points "
                        "(default 1)")
    p.add_argument("--code", action="store_true",
                   help="keras only: also write the model's Keras functional-API source beside --out (.py)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= n <= 100_000:
        raise argparse.ArgumentTypeError(f"{n} is out of range; expected 1-100000")
    return n


def _points(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is out of range; expected 0-100 points")
    return value


def run(args: argparse.Namespace) -> int:
    from studio.export.common import quiet_native_stderr
    from studio.export.errors import ExportError
    from studio.export.formats import OPSETS, export_project, missing_requirement
    from studio.export.weights import WeightsError
    from studio.transfer import weights_for_export

    if args.code and args.format != "keras":
        return _fail(args, f"--code applies to the keras format only, not {args.format}", 2)
    if missing_requirement(args.format):
        return _fail(args, missing_requirement(args.format), 2)
    if args.opset is not None and args.format != "onnx":
        return _fail(args, f"--opset applies to the onnx format only, not {args.format}", 2)
    if args.opset is not None and args.opset not in OPSETS:
        return _fail(args, f"--opset {args.opset} is not supported; choose {OPSETS.start}-{OPSETS.stop - 1}", 2)
    reduced = args.quantize or (args.precision if args.precision != "fp32" else None)
    if args.quantize and args.precision != "fp32":
        return _fail(args, f"--quantize {args.quantize} and --precision {args.precision} cannot be combined; "
                           "choose one", 2)
    if reduced and args.format != "onnx":
        return _fail(args, f"--quantize and --precision apply to the onnx format only, not {args.format}", 2)
    if not reduced and (args.calibration is not None or args.max_drop is not None):
        return _fail(args, "--calibration and --max-drop apply with --quantize int8 or --precision fp16", 2)
    if args.calibration is not None and args.quantize != "int8":
        return _fail(args, "--calibration applies to --quantize int8 only", 2)
    problem = output_problem(args.out)
    if problem:
        return _fail(args, f"--out: {problem}", 2)
    try:
        project = load(args.project)
    except StudioError as exc:
        return _fail(args, str(exc), 2)
    if args.weights is None and project.path is not None:
        beside = weights_beside(project.path)
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
        else:
            show(what, frac)

    if reduced:
        with steps(not args.json) as show:
            return _export_reduced(args, project, weights, reduced, progress)
    try:
        with warnings.catch_warnings(), quiet_native_stderr(), steps(not args.json) as show:
            warnings.simplefilter("ignore")
            report = export_project(project, args.format, args.out, weights=weights, opset=args.opset,
                                    exporter=args.exporter, progress=progress, code=args.code)
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


def _export_reduced(args, project, weights, precision: str, progress) -> int:
    from studio.bench.precision import DEFAULT_CALIBRATION, DEFAULT_MAX_DROP, PrecisionError, export_reduced
    from studio.export.common import quiet_native_stderr
    from studio.export.errors import ExportError
    from studio.export.weights import WeightsError

    try:
        with warnings.catch_warnings(), quiet_native_stderr():
            warnings.simplefilter("ignore")
            report = export_reduced(project, args.out, precision, weights=weights,
                                    calibration=args.calibration or DEFAULT_CALIBRATION,
                                    max_drop=DEFAULT_MAX_DROP if args.max_drop is None else args.max_drop,
                                    opset=args.opset, exporter=args.exporter, progress=progress)
    except PrecisionError as exc:
        return _fail(args, str(exc), exc.code)
    except WeightsError as exc:
        return _fail(args, str(exc), 2)
    except (ExportError, StudioError) as exc:
        return _fail(args, str(exc), 1)
    if args.json:
        emit_json({"type": "summary", "ok": True, "project": str(args.project), **report.to_json()})
        return 0
    print(f"wrote {report.path} ({human_bytes(report.size_bytes)}, {report.size_ratio:.2f}x the float model's "
          f"{human_bytes(report.float_size_bytes)}): {precision}, {report.method_note}")
    if report.metric:
        print(f"  {report.metric}: {report.reduced_metric:.4g} ({precision}) vs {report.float_metric:.4g} (float), "
              f"a drop of {report.drop:.2f} points (at most {report.max_drop:g} allowed)")
    print(f"  checked on {report.checked_on}" + (f"; largest output difference {report.max_diff:.3g}"
                                                 if report.max_diff is not None else ""))
    if report.speed:
        sp = report.speed
        print(f"  onnxruntime CPU at batch {sp['batch_size']}: {sp['reduced_samples_per_s']:.0f} samples/s vs "
              f"{sp['float_samples_per_s']:.0f} float ({sp['ratio']:.2f}x)")
    return 0


def _fail(args, message: str, code: int) -> int:
    if args.json:
        emit_json({"type": "summary", "ok": False, "project": str(args.project), "message": message})
    error(message)
    return code
