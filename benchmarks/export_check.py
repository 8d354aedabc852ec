"""Export + check time per template (target: at most 3 s each), and inference throughput
of onnxruntime next to torch on the CPU, measured side by side in one run.

    .venv/bin/python benchmarks/export_check.py [--threads N] [--batch B]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import torch

from studio.core.project import load
from studio.export.common import build_module, quiet_native_stderr, sample_inputs
from studio.export.onnx import export_onnx
from studio.resources import template_names, template_path

TARGET_S = 3.0


def throughput(fn, batch: int, seconds: float = 1.0) -> float:
    fn()  # warm-up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    import onnxruntime as ort

    print(f"threads {args.threads}, batch {args.batch}; export time includes onnx.checker and the onnxruntime check")
    header = f"{'template':<18} {'exporter':>8} {'export+check s':>14} {'target':>6} {'max diff':>9} " \
             f"{'torch samples/s':>15} {'ort samples/s':>13} {'ort/torch':>9}"
    print(header)
    print("-" * len(header))
    for name in template_names():
        project = load(template_path(name))
        module = build_module(project.graph)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"{name}.onnx"
            start = time.perf_counter()
            with quiet_native_stderr():
                report = export_onnx(project.graph, out, module=module, data=project.data)
            seconds = time.perf_counter() - start
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = args.threads
            session = ort.InferenceSession(str(out), opts, providers=["CPUExecutionProvider"])
        xs = sample_inputs(module, project.data, project.graph, n=args.batch).inputs
        xs = tuple(torch.cat([x] * (args.batch // x.shape[0] + 1))[: args.batch] for x in xs)
        feeds = {n: x.numpy() for n, x in zip(module.input_names, xs)}

        def run_torch():
            with torch.inference_mode():
                module(*xs)

        t_torch = throughput(run_torch, args.batch)
        t_ort = throughput(lambda: session.run(None, feeds), args.batch)
        ok = "ok" if seconds <= TARGET_S else "SLOW"
        print(f"{name:<18} {report.exporter:>8} {seconds:>14.2f} {ok:>6} {report.max_diff:>9.1e} "
              f"{t_torch:>15,.0f} {t_ort:>13,.0f} {t_ort / t_torch:>8.2f}x")


if __name__ == "__main__":
    main()
