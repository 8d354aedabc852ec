"""``studio predict PROJECT --weights RUN INPUT...``: the model's answer for images, WAV
files, CSV rows or text, each prepared exactly as the training data was."""

from __future__ import annotations

import argparse

from studio.cli._output import emit_json, error, say
from studio.cli._output import fail as report_failure


def _top_k(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{value} is out of range; expected 1 to 1000")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="project file (.json)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="image or WAV files, CSV files (one prediction per row), a folder (every file in it), "
                        "or text for a text model")
    p.add_argument("--weights", required=True, metavar="RUN",
                   help="a run folder (or a checkpoint or weights file inside one)")
    p.add_argument("--checkpoint", choices=("best", "last", "weights"), default=None,
                   help="which weights of the run (default: best)")
    p.add_argument("--top-k", type=_top_k, default=5, metavar="N", help="classes listed per input (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per input")


def run(args: argparse.Namespace) -> int:
    from studio.core.errors import StudioError
    from studio.core.project import load

    def fail(code: int, message: str) -> int:
        return report_failure(args, code, message)

    try:
        project = load(args.project)
    except StudioError as exc:
        return fail(2, str(exc))
    from studio.evaluation import EvaluationError, RunMismatch, load_run
    from studio.evaluation.predict import Predictor, expand_inputs, predict_inputs, training_info

    try:
        loaded = load_run(project, args.weights, args.checkpoint)
    except RunMismatch as exc:  # the run belongs to another graph
        return fail(1, str(exc))
    except EvaluationError as exc:
        return fail(2, str(exc))
    try:
        inputs = expand_inputs(args.inputs)
        predictor = Predictor(loaded, training_info(project, loaded.settings))
    except EvaluationError as exc:
        return fail(2, str(exc))
    results, problems = predict_inputs(predictor, inputs, args.top_k)
    for result in results:
        if args.json:
            emit_json({"type": "prediction", **result})
        else:
            say(_line(result))
    for problem in problems:
        if args.json:
            emit_json({"type": "error", "message": problem})
        error(problem)
    return 2 if problems else 0


def _line(r: dict) -> str:
    notes = f"  ({'; '.join(r['notes'])})" if r.get("notes") else ""
    if "top" in r:
        rest = ", ".join(f"{t['class']} {t['probability']:.3f}" for t in r["top"][1:])
        return f"{r['input']}: {r['class']} {r['probability']:.3f}" + (f"  [{rest}]" if rest else "") + notes
    if "text" in r:
        return f"{r['input']!r}: {r['text']!r}"
    if "boxes" in r:
        boxes = "; ".join(f"{b['class']} {b['score']:.2f} at " + ",".join(f"{v:.2f}" for v in b["box"])
                          for b in r["boxes"]) or "nothing found"
        return f"{r['input']}: {boxes}{notes}"
    if "labels" in r:
        return f"{r['input']}: " + (", ".join(f"{x['class']} {x['probability']:.3f}" for x in r["labels"])
                                    or "no label") + notes
    return f"{r['input']}: " + ", ".join(f"{v:.4g}" for v in r["value"]) + notes
