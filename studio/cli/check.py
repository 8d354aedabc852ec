"""``studio check PROJECT``: shapes, parameters, FLOPs and problems, without training."""

from __future__ import annotations

import argparse

from studio.cli._args import training_setting
from studio.cli._output import emit_json, error, human, human_bytes
from studio.core.analysis import ERROR, WARNING, analyze
from studio.core.errors import StudioError
from studio.core.project import load


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="project file (.json)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--strict", action="store_true", help="treat warnings as problems too")
    p.add_argument("--batch-size", type=training_setting("batch_size"), default=None,
                   help="batch size for the memory estimate (default: the project's)")


def run(args: argparse.Namespace) -> int:
    try:
        project = load(args.project)
    except StudioError as exc:
        if args.json:
            emit_json({"type": "error", "file": str(args.project), "message": str(exc)})
        error(str(exc))
        return 2
    a = analyze(project.graph)
    batch = args.batch_size or project.training.get("batch_size", 64)
    g = project.graph
    in_order = set(a.order)
    order = a.order + [n.id for n in g.nodes if n.id not in in_order]
    failing = [p for p in a.problems if p.severity == ERROR or (args.strict and p.severity == WARNING)]
    summary = {
        "type": "summary", "file": str(args.project), "name": project.name, "nodes": len(g), "edges": len(g.edges),
        "params": a.total_params, "flops": a.total_flops, "batch_size": batch,
        "memory_bytes": a.memory_bytes(batch), "errors": len(a.errors),
        "warnings": sum(p.severity == WARNING for p in a.problems), "ready": a.ready,
        "inference_ready": a.inference_ready,
    }
    if args.json:
        for node_id in order:
            info = a.nodes[node_id]
            emit_json({
                "type": "node", "id": node_id, "layer": g.node(node_id).type,
                "inputs": {k: v.to_json() for k, v in info.inputs.items()},
                "outputs": {k: v.to_json() for k, v in info.outputs.items()},
                "params": info.params, "flops": info.flops, "error": info.error,
            })
        for p in a.problems:
            emit_json({"type": "problem", **p.to_json()})
        emit_json(summary)
    else:
        # One write for the whole report: a print per node costs more than the analysis.
        lines = [f"{project.name}  ({args.project})"]
        width = max((len(n) for n in order), default=4)
        for node_id in order:
            info = a.nodes[node_id]
            outs = ", ".join(f"{k}={v}" for k, v in info.outputs.items()) or "-"
            status = f"  !! {info.error}" if info.error else ""
            lines.append(f"  {node_id:<{width}}  {g.node(node_id).type:<18} {outs:<28} params {human(info.params):>7}  "
                         f"FLOPs {human(info.flops):>7}{status}")
        lines.append(f"total: {human(a.total_params)} params, {human(a.total_flops)} FLOPs per sample, "
                     f"~{human_bytes(summary['memory_bytes'])} to train at batch {batch}")
        lines += [f"  {p}" for p in a.problems]
        lines.append("ready to train" if a.ready else f"{len(a.errors)} problem(s) stop training" if a.errors
                     else "ready for inference and export; training needs a loss")
        print("\n".join(lines))
    return 1 if failing else 0
