"""ONNX import of the nine classic ImageNet models (the copies shipped with onnx, given random
weights, with the scores before the softmax as a second output): parameter count, import
time (verification against onnxruntime included), the difference found, and peak memory; then VGG-19 exported again with its check.
Targets: VGG-19 imports in at most 10 s and exports with its check in at most 15 s; memory
at most twice the model's size. Each model runs in a fresh process, so its peak memory is its own.

    .venv/bin/python benchmarks/onnx_import.py [--models "VGG-19,ResNet-50"] [--no-export]
    .venv/bin/python benchmarks/onnx_import.py --survey   # the exporter test models: what is refused
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "export"))  # the random-weight builder the tests use

from onnx_builders import LIGHT_MODELS, light_model_path, save, with_random_weights  # noqa: E402

IMPORT_TARGET_S, EXPORT_TARGET_S = 10.0, 15.0


def _peak_bytes() -> int:
    """This process's peak resident memory (VmHWM starts afresh at exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def one(name: str, path: Path, export: bool) -> dict:
    """Import one model (in this process) and, with ``export``, export it again."""
    warnings.simplefilter("ignore")
    import onnxruntime  # noqa: F401  (loaded before the baseline, as the app has it)
    import torch  # noqa: F401

    from studio.export.onnx_import import import_onnx

    weights = path.stat().st_size
    base = _peak_bytes()
    start = time.perf_counter()
    result = import_onnx(path)
    seconds = time.perf_counter() - start
    peak = _peak_bytes()
    params = sum(t.numel() for k, t in result.state.items() if t.is_floating_point()
                 and not k.endswith(("running_mean", "running_var")))
    row = {"model": name, "params": params, "weights_mb": weights / 1e6, "import_s": seconds,
           "max_rel": result.check.max_rel, "peak_mb": peak / 1e6, "before_mb": base / 1e6}
    if export:
        from studio.export.common import build_module
        from studio.export.onnx import export_onnx

        module = build_module(result.project.graph, result.state)
        start = time.perf_counter()
        report = export_onnx(result.project.graph, path.with_name("again.onnx"), module=module)
        row.update(export_s=time.perf_counter() - start, export_diff=report.max_diff)
    return row


def survey() -> None:
    """Import every small exporter model shipped with onnx; list what remains refused, by reason."""
    import collections
    import re

    import onnx

    from studio.export.errors import ImportModelError
    from studio.export.onnx_import import import_onnx

    warnings.simplefilter("ignore")
    data = Path(onnx.__file__).parent / "backend" / "test" / "data"
    files = sorted([*data.glob("pytorch-operator/*/model.onnx"), *data.glob("pytorch-converted/*/model.onnx")])
    ok, reasons = 0, collections.Counter()
    for f in files:
        try:
            import_onnx(f)
            ok += 1
        except ImportModelError as exc:
            text = str(exc).split(": ", 1)[1]
            found = re.findall(r"(\w+) x\d+ \(([^)]*)\)", text)
            for op, why in found or [("input", re.sub(r"input \S+ has shape .*", "a shape other than [B, C, H, W], "
                                                      "[B, C, L], [B, T, F], [B, F] or [B, T]", text))]:
                reasons[(op, why)] += 1
    print(f"{ok} of {len(files)} exporter test models import")
    print("| refused | why | models |\n|---|---|---|")
    for (op, why), n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"| {op} | {why} | {n} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=",".join(LIGHT_MODELS))
    parser.add_argument("--no-export", action="store_true", help="skip VGG-19's export")
    parser.add_argument("--survey", action="store_true", help="the exporter test models shipped with onnx instead")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.survey:
        return survey()
    if args.child:
        print(json.dumps(one(args.child, Path(args.path), export=args.child == "VGG-19" and not args.no_export)))
        return
    tmp = tempfile.TemporaryDirectory()
    print("| model | parameters | file | import (s) | largest relative difference | peak memory |")
    print("|---|---|---|---|---|---|")
    export_row = None
    for name in args.models.split(","):
        if light_model_path(name) is None:
            print(f"| {name} | (not shipped with this onnx) | | | | |")
            continue
        path = save(with_random_weights(light_model_path(name)), Path(tmp.name) / "model.onnx")
        cmd = [sys.executable, __file__, "--child", name, "--path", str(path)]
        out = subprocess.run(cmd + (["--no-export"] if args.no_export else []), capture_output=True, text=True)
        if out.returncode:
            print(f"| {name} | failed: {out.stderr.strip().splitlines()[-1]} | | | | |")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {name} | {row['params'] / 1e6:.1f} M | {row['weights_mb']:.0f} MB | {row['import_s']:.1f} | "
              f"{row['max_rel']:.1e} | {row['peak_mb']:.0f} MB ({row['before_mb']:.0f} MB before) |")
        if "export_s" in row:
            export_row = row
    if export_row:
        print(f"\nVGG-19: import {export_row['import_s']:.1f} s (target {IMPORT_TARGET_S:g}), export with its check "
              f"{export_row['export_s']:.1f} s (target {EXPORT_TARGET_S:g}), export difference "
              f"{export_row['export_diff']:.2g}")


if __name__ == "__main__":
    main()
