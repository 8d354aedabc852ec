"""``studio import``: turn an ONNX model into an editable project with its weights."""

from __future__ import annotations

import argparse
import warnings

from studio.cli._args import output_problem
from studio.cli._output import emit_json, error
from studio.cli._progress import steps


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="ONNX or Keras (.keras) file; with --into also a run folder or a .safetensors/.pt "
                                 "weights file")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help="project file to write (.json)")
    where.add_argument("--into", help="existing project whose nodes take the weights that match by name and shape")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    if args.into:
        return _transfer(args)
    from studio.core.errors import StudioError
    from studio.export.errors import ImportModelError
    from studio.export.onnx_import import import_onnx, open_model

    problem = output_problem(args.out)
    if problem:
        return _fail(args, f"--out: {problem}", 2)
    keras = str(args.model).lower().endswith(".keras")
    if keras:
        from studio.export.formats import missing_requirement

        if missing_requirement("keras"):
            return _fail(args, missing_requirement("keras"), 2)
        from studio.export.keras_import import import_keras, open_keras

        def open_model(path):
            return open_keras(path)

        def import_model(source):
            return import_keras(args.model, model=source)
    else:
        import_model = import_onnx
    with steps(not args.json) as show:
        show(f"reading {args.model}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                source = open_model(args.model)
        except ImportModelError as exc:
            return _fail(args, str(exc), 2)
        show(f"building the graph and checking it against {'Keras' if keras else 'onnxruntime'}")
        try:
            result = import_model(source)
            project_path, weights_path = result.save(args.out)
        except (ImportModelError, StudioError) as exc:
            return _fail(args, str(exc), 1)
    graph = result.project.graph
    if args.json:
        weights: dict[str, list[str]] = {}
        for k in result.state:  # one pass: per node it would be quadratic on a big model
            _, node_id, name = k.split(".", 2)
            weights.setdefault(node_id, []).append(name)
        for node in graph.nodes:
            emit_json({"type": "node", "id": node.id, "layer": node.type,
                       "weights": sorted(weights.get(node.id, []))})
        emit_json({"type": "summary", "ok": True, "model": str(args.model), "project": str(project_path),
                   "weights": str(weights_path), "nodes": len(graph), "edges": len(graph.edges),
                   "tensors": len(result.state), "folded": result.folded,
                   "max_diff": result.check.max_abs, "max_rel_diff": result.check.max_rel,
                   "checked_on": result.check.inputs})
    else:
        print(f"wrote {project_path} ({len(graph)} nodes) and {weights_path} ({len(result.state)} tensors)")
        if result.folded:
            print("folded into parameters (shape computations, weight layouts): " + ", ".join(f"{k} x{v}" for k, v in sorted(result.folded.items())))
        print(result.check)
        print(f"training and export of {project_path.name} start from these weights")
    return 0


def _transfer(args) -> int:
    from studio.core.errors import StudioError
    from studio.core.project import load
    from studio.export.errors import ImportModelError
    from studio.export.weights import WeightsError
    from studio.transfer import attach_weights

    try:
        project = load(args.into)
    except StudioError as exc:
        return _fail(args, str(exc), 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report, path = attach_weights(project, args.model)
    except (ImportModelError, WeightsError) as exc:
        return _fail(args, str(exc), 2)
    except StudioError as exc:
        return _fail(args, str(exc), 1)
    if args.json:
        emit_json({"type": "summary", "ok": True, "model": str(args.model), "project": str(args.into),
                   "weights": str(path), **report.to_json()})
    else:
        print(report)
        print(f"wrote {path}: training {args.into} starts from these weights")
    return 0


def _fail(args, message: str, code: int) -> int:
    if args.json:
        emit_json({"type": "summary", "ok": False, "model": str(args.model), "message": message})
    error(message)
    return code
