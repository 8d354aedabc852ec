"""Bench results kept with the project's runs, and compared with the last ones.

``<runs folder>/bench/<date>-<time>.json`` holds one bench: when and where it ran, the
model's FLOPs per sample, the settings, and one entry per target (the JSON lines of
``studio bench --json``). The runs listing ignores the folder (it holds no run.json).
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from pathlib import Path

from studio.core import jsontext
from studio.core.atomic import atomic_write_text

FORMAT = 1


def bench_dir_for(project) -> Path:
    from studio.training.runs import runs_dir_for

    return runs_dir_for(project) / "bench"


def save_results(project, context, results, settings, folder: Path | None = None) -> Path:
    folder = Path(folder) if folder is not None else bench_dir_for(project)
    folder.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now()
    path, i = folder / f"{now:%Y%m%d-%H%M%S}.json", 1
    while path.exists():
        i += 1
        path = folder / f"{now:%Y%m%d-%H%M%S}-{i}.json"
    doc = {
        "format": FORMAT, "project": project.name,
        "project_file": str(project.path) if project.path else None,
        "date": now.isoformat(timespec="seconds"), "machine": platform.node(), "python": platform.python_version(),
        "flops_per_sample": context.flops_per_sample, "batch_sizes": context.batch_sizes,
        "train_batch_size": context.train_batch_size, "inputs": context.input_source,
        "settings": {"repeats": settings.repeats, "round_s": settings.round_s, "tolerance": settings.tolerance},
        "targets": [r.to_json() for r in results],
    }
    atomic_write_text(path, jsontext.dumps(doc, indent=1))
    return path


def list_saved(project, folder: Path | None = None) -> list[Path]:
    """Saved benches of the project, oldest first."""
    folder = Path(folder) if folder is not None else bench_dir_for(project)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if p.is_file())


def load_saved(path: str | Path) -> dict:
    """A saved bench; raises ValueError with the file's name when it cannot be read."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable bench file ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("targets"), list):
        raise ValueError(f"{path}: not a bench file (no targets)")
    return doc


def headline(entry: dict) -> dict[str, float]:
    """The figures compared between benches, from one target's saved entry."""
    out = {}
    train = entry.get("train") or {}
    if train.get("samples_per_s"):
        out["train_samples_per_s"] = float(train["samples_per_s"])
    latency = entry.get("latency") or {}
    if latency.get("p50_ms"):
        out["latency_p50_ms"] = float(latency["p50_ms"])
    sizes = entry.get("throughput") or []
    if sizes:
        best = max(sizes, key=lambda t: t["batch_size"])
        if best.get("samples_per_s"):
            out["throughput_samples_per_s"] = float(best["samples_per_s"])
    return out


def compare(current: list[dict], previous: dict) -> dict[str, dict[str, float]]:
    """target id -> figure -> ratio now / then (above 1 is faster, except latency, where
    below 1 is faster), for the targets and figures both benches have."""
    then = {e["target"]["id"]: headline(e) for e in previous.get("targets", []) if isinstance(e, dict)
            and isinstance(e.get("target"), dict)}
    out = {}
    for entry in current:
        old = then.get(entry["target"]["id"])
        if not old:
            continue
        new = headline(entry)
        ratios = {k: new[k] / old[k] for k in new if k in old and old[k]}
        if ratios:
            out[entry["target"]["id"]] = ratios
    return out
