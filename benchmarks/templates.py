"""Train every shipped template with its default settings; print its final metric and time.

    .venv/bin/python benchmarks/templates.py [NAME ...] [--seed N]

Each run goes through ``train_project`` exactly as `studio train` does (CPU, the project's
thread setting), into a temporary run folder. The time is the whole fit: data loading,
every epoch and every validation pass. The load average is printed beside it, because on
a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.core.project import load  # noqa: E402
from studio.resources import template_names, template_path  # noqa: E402

# What the issue asks of each template on a quiet 2-core CPU: (metric, at least, seconds at most).
TARGETS = {
    "cnn_digits": ("accuracy", 0.985, 15),
    "lstm_speech": ("accuracy", 0.95, 120),
    "seq2seq_dates": ("greedy_exact_match", 0.95, 180),
    "shapes_detector": ("map50", 0.80, 180),
    "lstm_sequence": ("accuracy", 0.90, 60),
}


def run(name: str, seed: int | None) -> dict:
    from studio.training import train_project

    project = load(template_path(name))
    if seed is not None:
        project.training["seed"] = seed
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = train_project(project, run_dir=Path(tmp) / "run", device="cpu")
    seconds = time.perf_counter() - start
    metric, goal, budget = TARGETS.get(name, (next(iter(result.metrics)), 0.0, float("inf")))
    value = result.metrics.get(metric, float("nan"))
    return {"name": name, "metric": metric, "value": value, "goal": goal, "seconds": seconds, "budget": budget,
            "epochs": len(result.history), "load": (load_before + os.getloadavg()[0]) / 2,
            "ok": value >= goal and seconds <= budget}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="templates (default: all)")
    ap.add_argument("--seed", type=int, default=None, help="override the split/initialisation seed")
    args = ap.parse_args(argv)
    names = args.names or [n for n in TARGETS if n in template_names()]
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start", flush=True)
    rows = []
    for name in names:
        row = run(name, args.seed)
        rows.append(row)
        print(f"  {name}: {row['metric']} {row['value']:.4f} in {row['seconds']:.1f} s", flush=True)
    print(f"\n{'template':<17}{'metric':<20}{'value':>8}{'target':>8}{'seconds':>9}{'budget':>8}"
          f"{'epochs':>8}{'load':>6}  ")
    for r in rows:
        print(f"{r['name']:<17}{r['metric']:<20}{r['value']:>8.4f}{r['goal']:>8.3f}{r['seconds']:>9.1f}"
              f"{r['budget']:>8.0f}{r['epochs']:>8}{r['load']:>6.2f}  {'met' if r['ok'] else 'MISSED'}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
