"""int8 and float16 exports of cnn_digits and lstm_speech, and `studio bench` on cnn_digits.

Targets: int8 at most 0.3x the float file, a metric drop of at most 1 point; the int8 /
float ONNX Runtime throughput ratio at batch 64 is printed beside torch eager's figure;
`studio bench` on cnn_digits in under 60 s with every figure's spread under 10 %.

    .venv/bin/python benchmarks/quantize_and_bench.py [--run cnn_digits=RUNDIR] [--run lstm_speech=RUNDIR]

Without --run, each template is trained first with its own settings (lstm_speech takes
minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

TEMPLATES = ("cnn_digits", "lstm_speech")
SIZE_TARGET, DROP_TARGET, BENCH_SECONDS, SPREAD_TARGET = 0.3, 1.0, 60.0, 0.10


def torch_eager(project, weights, batch: int = 64, rounds: int = 7) -> float:
    """Samples/s of the float model in torch on the CPU at ``batch`` (one thread per core but one)."""
    import torch

    from studio.bench.measure import calls_per_round
    from studio.bench.precision import _feeds, _load_split
    from studio.export.common import build_module

    torch.set_num_threads(max(1, (os.cpu_count() or 1) - 1))
    module = build_module(project.graph, weights).eval()
    split, _ = _load_split(project)
    feeds, _ = next(_feeds(module, split.val, batch, 1))
    xs = [torch.from_numpy(feeds[n]) for n in module.input_names]

    def call():
        with torch.inference_mode():
            module(*xs)

    k = calls_per_round(call, 0.05)
    figures = []
    for i in range(rounds + 1):
        t0 = time.perf_counter()
        for _ in range(k):
            call()
        if i:
            figures.append(len(xs[0]) * k / (time.perf_counter() - t0))
    return statistics.median(figures)


def train(name: str, folder: Path) -> Path:
    from studio.core.project import load
    from studio.resources import template_path
    from studio.training.project import train_project

    project = load(template_path(name))
    result = train_project(project, run_dir=folder / f"run-{name}")
    print(f"  trained {name}: {result.metrics}")
    return folder / f"run-{name}"


def reduced(runs: dict[str, Path]) -> bool:
    from studio.bench.precision import PrecisionError, export_reduced
    from studio.core.project import load
    from studio.resources import template_path

    ok = True
    header = (f"{'template':<12} {'prec':>5} {'method':>8} {'size':>6} {'metric':>9} {'float':>7} {'reduced':>7} "
              f"{'drop pt':>7} {'ort float/s':>11} {'ort red./s':>10} {'red./float':>10} {'torch/s':>8} "
              f"{'red./torch':>10}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name in TEMPLATES:
            project = load(template_path(name))
            eager = torch_eager(project, runs[name])
            for precision in ("int8", "fp16"):
                out = Path(tmp) / f"{name}.{precision}.onnx"
                try:
                    r = export_reduced(project, out, precision, weights=runs[name])
                except PrecisionError as exc:
                    print(f"{name:<12} {precision:>5} refused: {exc}")
                    ok = False
                    continue
                sp = r.speed
                print(f"{name:<12} {precision:>5} {r.method:>8} {r.size_ratio:>5.3f}x {r.metric or '-':>9} "
                      f"{r.float_metric:>7.4f} {r.reduced_metric:>7.4f} {r.drop:>7.2f} "
                      f"{sp.get('float_samples_per_s', 0):>11.0f} {sp.get('reduced_samples_per_s', 0):>10.0f} "
                      f"{sp.get('ratio', 0):>9.2f}x {eager:>8.0f} "
                      f"{sp.get('reduced_samples_per_s', 0) / eager:>9.2f}x")
                if precision == "int8":
                    size_ok, drop_ok = r.size_ratio <= SIZE_TARGET, r.drop <= DROP_TARGET
                    ok &= size_ok and drop_ok
                    print(f"{'':<12} int8 size {r.size_ratio:.3f}x (target <= {SIZE_TARGET}): "
                          f"{'ok' if size_ok else 'MISSED'}; drop {r.drop:.2f} points (target <= {DROP_TARGET}): "
                          f"{'ok' if drop_ok else 'MISSED'}; speed rounds alternate float and int8, batch "
                          f"{sp.get('batch_size')}, {sp.get('threads')} thread(s)")
    return ok


def bench_cli() -> bool:
    from studio.core.project import load
    from studio.resources import template_path

    with tempfile.TemporaryDirectory() as tmp:
        path = load(template_path("cnn_digits")).save(Path(tmp) / "cnn_digits.json")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "studio", "bench", str(path), "--json", "--no-save"],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    spreads = []
    for d in (x for x in lines if x.get("type") == "device" and x.get("status") == "ok"):
        figures = [("train", d["train"])] if d.get("train") else []
        figures += [("latency", d["latency"])] + [(f"batch {t['batch_size']}", t) for t in d["throughput"]]
        for what, f in figures:
            spreads.append((f["spread"], f"{d['target']['id']} {what}"))
            print(f"  {d['target']['id']:<22} {what:<10} spread {f['spread']:6.1%} over {f['repeats']:>2} rounds"
                  f"{'' if f['stable'] else '  (did not settle)'}")
    worst = max(spreads) if spreads else (float("nan"), "-")
    ok = proc.returncode == 0 and seconds < BENCH_SECONDS and worst[0] < SPREAD_TARGET
    print(f"studio bench cnn_digits: exit {proc.returncode}, {seconds:.1f} s (target < {BENCH_SECONDS:.0f} s), "
          f"largest spread {worst[0]:.1%} ({worst[1]}; target < {SPREAD_TARGET:.0%})")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", default=[], help="TEMPLATE=RUNDIR: trained weights to use")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    runs = dict(item.split("=", 1) for item in args.run)
    with tempfile.TemporaryDirectory() as tmp:
        for name in TEMPLATES:
            if name not in runs:
                runs[name] = train(name, Path(tmp))
        print(f"cores {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the start")
        ok = reduced({k: Path(v) for k, v in runs.items()})
    ok &= bench_cli()
    print("all targets met" if ok else "some targets missed (see above)")


if __name__ == "__main__":
    main()
