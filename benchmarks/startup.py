"""Start-up of the commands that need no torch, beside their anchors, in one run.

Targets: `studio --help` at most 2x `python -c "import studio"` and under 0.3 s;
`studio check` of a template under 0.5 s. Each command runs in a fresh process with a
bytecode cache, as users run it (PYTHONDONTWRITEBYTECODE is removed from the children's
environment, and one untimed run per command fills the cache first). `studio ...` is run
as the installed console script runs it: `from studio.cli import main; sys.exit(main())`.
Run: .venv/bin/python benchmarks/startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

STUDIO = "import sys; from studio.cli import main; sys.exit(main())"


def cases() -> list[tuple[str, list[str]]]:
    from studio.resources import template_path

    studio = [sys.executable, "-c", STUDIO]
    return [
        ('python -c pass', [sys.executable, "-c", "pass"]),
        ('python -c "import studio"', [sys.executable, "-c", "import studio"]),
        ('python -c "import torch"', [sys.executable, "-c", "import torch"]),
        ("studio --help", studio + ["--help"]),
        ("studio check cnn_digits", studio + ["check", str(template_path("cnn_digits"))]),
        ("studio check lstm_speech", studio + ["check", str(template_path("lstm_speech"))]),
        ("studio devices --json", studio + ["devices", "--json"]),
        ("studio data --list", studio + ["data", "--list"]),
    ]


def seconds(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    rows = cases()
    for _, argv in rows:  # fill the bytecode cache
        seconds(argv, env)
    times = {name: [] for name, _ in rows}
    for _ in range(args.repeat):  # interleaved, so a burst of load hits every case alike
        for name, argv in rows:
            times[name].append(seconds(argv, env))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"start-up, median (min) of {args.repeat} runs; {os.cpu_count()} cores, load average {load:.1f}")
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"  {name:28} {median[name]:6.3f} s  ({min(t):.3f})")
    ratio = median["studio --help"] / median['python -c "import studio"']
    print(f"studio --help / import studio: {ratio:.2f}x (goal <= 2x, and under 0.3 s: "
          f"{'met' if ratio <= 2 and median['studio --help'] < 0.3 else 'NOT met'})")
    worst = max(median["studio check cnn_digits"], median["studio check lstm_speech"])
    print(f"studio check of a template: {worst:.3f} s (goal < 0.5 s: {'met' if worst < 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
