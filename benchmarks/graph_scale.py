"""Scaling of the graph core: `studio check`, ONNX import and auto-layout against size.

Prints the time per node of what `studio check` does after start-up (load the file,
analyse: cycles, shapes, problems, parameter and FLOP counts, and print the report) at
1k, 5k and 50k nodes; the time and peak memory of `studio import` + `studio check` of an
ONNX chain of 8k and 100k operators; and the auto-layout of a 5,000-node graph.
Linear work shows as a flat time per node.

Anchors: 50,000-node check under 2 s beyond start-up; 100,000-node ONNX import + check
under 10 s; auto-layout of 5,000 nodes under 1 s.
Run: .venv/bin/python benchmarks/graph_scale.py [--sizes 1000,5000,50000] [--onnx 8000,100000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core_graph import build  # noqa: E402  (residual blocks of 6 nodes, laid out)


def check_seconds(path: Path) -> tuple[float, int]:
    """What `studio check PATH` does after start-up, timed in this process."""
    from studio.cli import main

    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["check", str(path)])
    return time.perf_counter() - started, code


def onnx_chain(path: Path, n: int) -> None:
    """An MLP-like chain of ``n`` operators (Gemm and Relu alternating), as a file."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    prev = "x"
    for i in range(n):
        out = f"t{i}"
        if i % 2 == 0:
            w = numpy_helper.from_array(np.full((4, 4), 0.1, dtype=np.float32), f"w{i}")
            b = numpy_helper.from_array(np.zeros(4, dtype=np.float32), f"b{i}")
            inits += [w, b]
            nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [out], name=f"fc{i}", transB=1))
        else:
            nodes.append(helper.make_node("Relu", [prev], [out], name=f"act{i}"))
        prev = out
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 4])],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ["B", 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.save(model, str(path))


def onnx_child(n: int, src: Path) -> None:
    """One size in a fresh process, so the peak memory is this size's alone."""
    import torch  # noqa: F401  (start-up, not measured: the base memory includes it)

    import studio.export.onnx_import  # noqa: F401
    from studio.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "chain.json"
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["import", str(src), "--out", str(out)])
        imported = time.perf_counter() - started
        assert code == 0, f"import exited {code}"
        checked, code = check_seconds(out)
        assert code in (0, 1), f"check exited {code}"  # 1: an import has no loss node
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"n": n, "import": imported, "check": checked, "peak_kb": peak, "base_kb": base}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,50000")
    ap.add_argument("--onnx", default="8000,100000")
    ap.add_argument("--layout", type=int, default=5000)
    ap.add_argument("--onnx-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.onnx_child:
        return onnx_child(int(args.onnx_child[0]), Path(args.onnx_child[1]))

    import studio.cli  # noqa: F401  (start-up is not what is measured)
    from studio.core.layout import layered_positions
    from studio.layers import default_registry

    default_registry()
    print("studio check after start-up (load + analysis + report):")
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",") if s]:
            path = build(n).save(Path(tmp) / f"n{n}.json")
            seconds, code = check_seconds(path)
            anchor = "  (anchor: under 2 s)" if n == 50000 else ""
            print(f"  {n:>7} nodes  {seconds:7.3f} s  {seconds / n * 1e6:6.1f} us/node  exit {code}{anchor}")

    print("ONNX chain: studio import, then studio check (each size in a fresh process):")
    for n in [int(s) for s in args.onnx.split(",") if s]:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "chain.onnx"
            onnx_chain(src, n)
            done = subprocess.run([sys.executable, __file__, "--onnx-child", str(n), str(src)],
                                  capture_output=True, text=True)
        if done.returncode:
            print(f"  {n:>7} operators  failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        total = r["import"] + r["check"]
        grown = (r["peak_kb"] - r["base_kb"]) / 1024
        anchor = "  (anchor: under 10 s)" if n == 100000 else ""
        print(f"  {n:>7} operators  import {r['import']:6.2f} s + check {r['check']:5.2f} s = {total:6.2f} s  "
              f"{total / n * 1e6:5.1f} us/op  peak memory +{grown:.0f} MB ({grown * 1024 / n:.2f} KB/op){anchor}")

    g = build(args.layout).graph
    started = time.perf_counter()
    layered_positions(g)
    seconds = time.perf_counter() - started
    print(f"auto-layout of {len(g)} nodes: {seconds:.3f} s  (anchor: under 1 s)")


if __name__ == "__main__":
    main()
