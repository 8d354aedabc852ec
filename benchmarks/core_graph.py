"""Core spine on a 1000-node graph: load, shape inference, compile.

Targets: load <= 200 ms, shape inference of the whole graph <= 50 ms.
Run: .venv/bin/python benchmarks/core_graph.py [--nodes 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def build(n_nodes: int):
    from studio.core.graph import Graph
    from studio.core.layout import apply_layout
    from studio.core.project import Project

    g = Graph()
    g.add_node("Input", {"kind": "image", "channels": 8, "height": 16, "width": 16}, node_id="x")
    cur, i = "x", 0
    # residual blocks: conv -> bn -> relu -> conv -> add(skip) -> relu  (6 nodes each)
    while len(g) < n_nodes - 4:
        i += 1
        a = g.add_node("Conv2d", {"out_channels": 8}, node_id=f"c{i}a").id
        b = g.add_node("BatchNorm2d", node_id=f"bn{i}").id
        r = g.add_node("ReLU", node_id=f"r{i}a").id
        c = g.add_node("Conv2d", {"out_channels": 8}, node_id=f"c{i}b").id
        s = g.add_node("Add", node_id=f"add{i}").id
        o = g.add_node("ReLU", node_id=f"r{i}b").id
        g.connect(cur, "out", a, "in")
        g.connect(a, "out", b, "in")
        g.connect(b, "out", r, "in")
        g.connect(r, "out", c, "in")
        g.connect(c, "out", s, "in1")
        g.connect(cur, "out", s, "in2")
        g.connect(s, "out", o, "in")
        cur = o
    for t, p in (("AdaptiveAvgPool2d", {}), ("Flatten", {}), ("Linear", {"out_features": 10}), ("CrossEntropyLoss", {})):
        n = g.add_node(t, p).id
        g.connect(cur, "out", n, "in")
        cur = n
    apply_layout(g)
    return Project(g, name=f"{len(g)} nodes")


def timed(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from studio.core.analysis import analyze
    from studio.core.project import load
    from studio.layers import default_registry

    default_registry()
    project = build(args.nodes)
    with tempfile.TemporaryDirectory() as tmp:
        path = project.save(Path(tmp) / "big.json")
        size = path.stat().st_size
        t_load, loaded = timed(lambda: load(path), args.repeat)
    g = loaded.graph
    t_infer, a = timed(lambda: analyze(g), args.repeat)
    assert a.ready, a.errors[:3]

    import torch  # noqa: F401  (imported before timing so the compile figure is the compile alone)
    from studio.compile import compile_graph

    t_compile, model = timed(lambda: compile_graph(g, a), max(1, args.repeat // 2))
    x = model.example_inputs(2)
    t_forward, _ = timed(lambda: model(*x), 3)

    print(f"graph: {len(g)} nodes, {len(g.edges)} wires, file {size / 1024:.0f} KB")
    print(f"load           {t_load * 1000:8.1f} ms   (target <= 200 ms: {'ok' if t_load <= 0.2 else 'MISSED'})")
    print(f"shape inference{t_infer * 1000:8.1f} ms   (target <= 50 ms:  {'ok' if t_infer <= 0.05 else 'MISSED'})")
    print(f"compile        {t_compile * 1000:8.1f} ms   (builds {len(model.layers)} torch modules)")
    print(f"forward (B=2)  {t_forward * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
