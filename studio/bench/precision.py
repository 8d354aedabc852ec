"""int8 and float16 ONNX exports, checked against the float model before they are written.

The float model is exported and checked as any ONNX export is; int8 quantization is
calibrated on batches of the project's own training data; then ONNX Runtime runs the
float and the reduced model on the whole validation split and scores both with the task
metric the project's loss declares (accuracy, exact match, MAE...). The report gives
both scores, the size ratio and the speed ratio (throughput at the largest batch on the
CPU). When the metric drops more than ``max_drop`` points the export is refused and
nothing is written.

A metric in [0, 1] (accuracy) drops in points of percentage (0.99 -> 0.98 is 1 point);
an error metric (MAE), where lower is better, in percent of the float model's error.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from studio.export.errors import ExportError

INT8, FP16 = "int8", "fp16"
DEFAULT_MAX_DROP = 1.0  # points
DEFAULT_CALIBRATION = 16  # batches
LOWER_IS_BETTER = {"mae"}
SPEED_BATCH = 64
ROUNDS = 7  # alternating rounds of the float and the reduced model, after a warm-up each


class PrecisionError(ExportError):
    """A reduced-precision export that cannot be made (``code`` 2: no data to calibrate
    on) or that the check refuses (``code`` 1)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class PrecisionReport:
    path: str
    precision: str  # int8 or fp16
    method: str  # static, dynamic (int8) or convert (fp16)
    method_note: str
    size_bytes: int
    float_size_bytes: int
    size_ratio: float
    metric: str | None  # the task metric, or None when the project declares none
    float_metric: float | None
    reduced_metric: float | None
    drop: float | None  # points (see the module's doc); negative is a gain
    max_drop: float
    checked_on: str  # "360 validation samples of digits", or why it was not checked
    speed: dict = field(default_factory=dict)  # batch_size, float/reduced samples_per_s, ratio
    calibration_batches: int = 0
    max_diff: float | None = None  # largest output difference to the float model
    checked: bool = True  # False where ONNX Runtime's CPU provider cannot run the model
    float_check: dict = field(default_factory=dict)  # the float export's own report
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def export_reduced(project, out: str | Path, precision: str, *, weights=None, calibration: int = DEFAULT_CALIBRATION,
                   max_drop: float = DEFAULT_MAX_DROP, opset: int | None = None, exporter: str = "auto",
                   progress: Callable[[str, float], None] | None = None) -> PrecisionReport:
    """Write ``project``'s model to ``out`` in ``precision`` (int8 or fp16) once it passed
    the check; raises :class:`PrecisionError` (or :class:`ExportError`) and writes nothing otherwise."""
    from studio.core.atomic import atomic_write_bytes
    from studio.data.registry import data_section
    from studio.export.common import build_module
    from studio.export.onnx import DEFAULT_OPSET, export_onnx
    from studio.export.quantize import convert_fp16, int8_method, quantize_int8

    started = time.perf_counter()
    step = progress or (lambda what, frac: None)
    if precision not in (INT8, FP16):
        raise PrecisionError(f"unknown precision {precision!r}; choose int8 or fp16", 2)
    split, why = _load_split(project)
    if precision == INT8 and split is None:
        raise PrecisionError(f"int8 quantization calibrates on the project's training data, and there is none to "
                             f"calibrate on: {why}", 2)
    step("exporting the float model", 0.05)
    with tempfile.TemporaryDirectory(prefix="studio-float-") as tmp:
        float_path = Path(tmp) / "float.onnx"
        float_report = export_onnx(project.graph, float_path, weights=weights, data=data_section(project),
                                   opset=opset or DEFAULT_OPSET, exporter=exporter,
                                   progress=lambda what, frac: step(what, 0.05 + 0.35 * frac))
        blob = float_path.read_bytes()
    module = build_module(project.graph, weights)
    batch = int(project.training.get("batch_size", 64))
    if precision == INT8:
        method, note = int8_method(blob)
        feeds = []
        if method == "static":
            step("calibrating on the training data", 0.45)
            feeds = [f for f, _ in _feeds(module, split.train, batch, calibration, shuffle_seed=0)]
        step("quantizing", 0.55)
        reduced, method = quantize_int8(blob, feeds, method)
    else:
        method, note, feeds = "convert", "every weight and operator in float16; inputs and outputs stay float32", []
        step("converting to float16", 0.55)
        reduced = convert_fp16(blob)
    step("checking on the validation data", 0.65)
    report = PrecisionReport(str(out), precision, method, note, len(reduced), len(blob), len(reduced) / len(blob),
                             None, None, None, None, max_drop, "", calibration_batches=len(feeds),
                             float_check=float_report.to_json())
    _check(report, module, blob, reduced, split, why, project)
    if report.checked:
        step("measuring the speed", 0.85)
        report.speed = _speed(module, blob, reduced, split)
    if report.drop is not None and not report.drop <= max_drop:
        raise PrecisionError(
            f"the {precision} model's {report.metric} is {_fmt(report.reduced_metric)} against "
            f"{_fmt(report.float_metric)} for the float model on {report.checked_on}: a drop of "
            f"{report.drop:.2f} points, more than the {max_drop:g} allowed; nothing was written"
            + (" (try more --calibration batches)" if method == "static" else ""))
    step("writing", 0.95)
    atomic_write_bytes(out, reduced)
    report.seconds = time.perf_counter() - started
    step("done", 1.0)
    return report


def _load_split(project):
    from studio.data.registry import data_section, load_data

    try:
        split = load_data(data_section(project), seed=int(project.training.get("seed", 0)),
                          val_split=float(project.training.get("val_split", 0.2)))
    except Exception as exc:
        return None, str(exc)
    if split.train is None or len(split.train) == 0:
        return None, "the training split is empty"
    return split, ""


def _feeds(module, dataset, batch: int, limit: int | None, shuffle_seed: int | None = None):
    """Batches of ``dataset`` as onnxruntime feeds (input name -> numpy), at most ``limit``."""
    import torch

    n = len(dataset)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(shuffle_seed)) if shuffle_seed is not None \
        else torch.arange(n)
    count = 0
    for a in range(0, n, batch):
        if limit is not None and count >= limit:
            return
        fields = _fields(dataset, order[a:a + batch])
        yield {name: _as_input(fields[f], shape).numpy()
               for name, f, shape in zip(module.input_names, module.input_fields, module.input_shapes)}, fields
        count += 1


def _fields(dataset, index):
    import torch

    if hasattr(dataset, "fields"):
        return {k: v[index] for k, v in dataset.fields.items()}
    items = [dataset[int(i)] for i in index]
    return {k: torch.stack([torch.as_tensor(it[k]) for it in items]) for k in items[0]}


def _as_input(x, shape):
    return x.long() if shape.dtype == "long" else x.float()


def task_metrics(module):
    """(output index, target field, metric name, Metric) for each loss whose declaration
    names a metric: the metrics validation scores during training."""
    from studio.training.metrics import create_metric

    plan = []
    for i, o in enumerate(module.outputs):
        if o.loss is None or o.loss.metric in ("none", ""):
            continue
        plan.append((i, o.loss.target, o.loss.metric, create_metric(o.loss.metric, o.loss.metric_options(o.params))))
    return plan


def _session(blob: bytes):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])


def _check(report: PrecisionReport, module, blob: bytes, reduced: bytes, split, why: str, project) -> None:
    """Score both models on the validation split (the training split where there is none)."""
    import numpy as np
    import torch

    if split is None:
        report.checked_on = f"not checked on data: {why}"
        report.metric = None
        return
    data = split.val if split.val is not None and len(split.val) else split.train
    which = "validation" if data is split.val else "training"
    name = getattr(getattr(split, "info", None), "name", None) or project.data.get("dataset", "the dataset")
    try:
        low = _session(reduced)
    except Exception as exc:
        if report.precision == FP16:  # ONNX Runtime's CPU provider lacks float16 kernels for some operators
            report.checked = False
            report.checked_on = f"not checked: ONNX Runtime's CPU provider cannot run this float16 model ({_first(exc)})"
            return
        raise ExportError(f"onnxruntime cannot run the {report.precision} model: {_first(exc)}") from None
    high = _session(blob)
    plans = {"float": task_metrics(module), "reduced": task_metrics(module)}
    worst, count = 0.0, 0
    for feeds, fields in _feeds(module, data, 256, None):
        outs = {"float": high.run(None, feeds)}
        try:
            outs["reduced"] = low.run(None, feeds)
        except Exception as exc:
            if report.precision == FP16:
                report.checked = False
                report.checked_on = f"not checked: ONNX Runtime's CPU provider cannot run this float16 model " \
                                    f"({_first(exc)})"
                return
            raise ExportError(f"onnxruntime cannot run the {report.precision} model: {_first(exc)}") from None
        for a, b in zip(outs["float"], outs["reduced"]):
            worst = max(worst, float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0)
        for kind, plan in plans.items():
            for i, target, _, metric in plan:
                metric.update(torch.from_numpy(np.asarray(outs[kind][i], dtype=np.float32)), fields[target],
                              model=None, batch=fields)
        count += len(next(iter(feeds.values())))
    report.max_diff = worst
    report.checked_on = f"{count} {which} samples of {name}"
    if not plans["float"]:
        report.checked_on += " (the project's loss names no metric: only the outputs are compared)"
        return
    _, _, metric_name, _ = plans["float"][0]
    try:
        high_value, low_value = plans["float"][0][3].compute(), plans["reduced"][0][3].compute()
    except Exception as exc:
        report.checked_on += f" (the {metric_name} metric cannot score an ONNX model's outputs: {_first(exc)})"
        return
    report.metric, report.float_metric, report.reduced_metric = metric_name, high_value, low_value
    if metric_name in LOWER_IS_BETTER:
        report.drop = 100 * (low_value - high_value) / max(abs(high_value), 1e-12)
    else:
        report.drop = 100 * (high_value - low_value)
    if math.isnan(report.drop):
        report.drop = math.inf


def _speed(module, blob: bytes, reduced: bytes, split) -> dict:
    """Samples/s of both models in ONNX Runtime on the CPU at batch 64 (one thread per
    core but one), and the ratio reduced / float. Their rounds alternate, so a machine
    that gets busier slows both alike and the ratio holds."""
    import os
    import statistics

    from studio.bench.measure import calls_per_round, spread
    from studio.bench.runner import ort_session

    data = split.val if split.val is not None and len(split.val) else split.train
    feeds, _ = next(_feeds(module, data, SPEED_BATCH, 1))
    n = len(next(iter(feeds.values())))
    threads = max(1, (os.cpu_count() or 1) - 1)
    runs = {}
    for kind, b in (("float", blob), ("reduced", reduced)):
        session = ort_session(b, "CPUExecutionProvider", threads)
        runs[kind] = (session, calls_per_round(lambda: session.run(None, feeds), 0.05))
    figures: dict[str, list[float]] = {"float": [], "reduced": []}
    for i in range(ROUNDS + 1):
        for kind, (session, k) in runs.items():
            t0 = time.perf_counter()
            for _ in range(k):
                session.run(None, feeds)
            if i:  # the first round of each is the warm-up
                figures[kind].append(n * k / (time.perf_counter() - t0))
    out = {"batch_size": n, "threads": threads, "rounds": ROUNDS}
    for kind, values in figures.items():
        out[f"{kind}_samples_per_s"] = statistics.median(values)
        out[f"{kind}_spread"] = spread(values)
    out["ratio"] = statistics.median(r / f for r, f in zip(figures["reduced"], figures["float"]))
    return out


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"
