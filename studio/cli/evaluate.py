"""``studio evaluate PROJECT --weights RUN``: what a trained run gets right and wrong on
the validation or test split; with ``--out``, the confusion matrix (PNG, CSV) and an
HTML report."""

from __future__ import annotations

import argparse

from studio.cli._args import output_problem
from studio.cli._output import emit_json, say
from studio.cli._output import fail as report_failure
from studio.cli._progress import steps


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="project file (.json)")
    p.add_argument("--weights", required=True, metavar="RUN",
                   help="a run folder (or a checkpoint or weights file inside one)")
    p.add_argument("--checkpoint", choices=("best", "last", "weights"), default=None,
                   help="which weights of the run: best (default; last when there is no best), last, "
                        "or the final weights")
    p.add_argument("--split", choices=("val", "test"), default="val",
                   help="val: the run's validation samples (default); test: the data's test split")
    p.add_argument("--output", default=None, metavar="NODE", help="the loss node to evaluate (default: the first)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write confusion.png, confusion.csv, classes.csv and report.html into DIR")
    p.add_argument("--json", action="store_true", help="one JSON object per line: each class, then a summary")


def run(args: argparse.Namespace) -> int:
    from studio.core.errors import StudioError
    from studio.core.project import load

    def fail(code: int, message: str) -> int:
        return report_failure(args, code, message)

    if args.out is not None:
        problem = output_problem(args.out, folder=True)
        if problem:
            return fail(2, f"--out: {problem}")
    try:
        project = load(args.project)
    except StudioError as exc:
        return fail(2, str(exc))
    from studio.evaluation import EvaluationError, NotEvaluable, RunMismatch, evaluate, load_run

    try:
        with steps(not args.json) as show:  # a spinner naming the step, on a terminal only
            show("loading the run")
            loaded = load_run(project, args.weights, args.checkpoint)
            show(f"evaluating on the {args.split} split")
            result = evaluate(project, loaded, args.split, output=args.output)
    except (RunMismatch, NotEvaluable) as exc:  # a run of another graph; a graph with nothing to score
        return fail(1, str(exc))
    except EvaluationError as exc:  # an unreadable run, data or split
        return fail(2, str(exc))
    files = []
    if args.out is not None:
        from studio.evaluation.report import write_report

        try:
            files = write_report(result, args.out)
        except OSError as exc:
            return fail(2, f"--out: {args.out}: {exc.strerror or exc}")
    if args.json:
        for row in result.class_rows():
            emit_json(row)
        for path in files:
            emit_json({"type": "file", "path": str(path)})
        emit_json(result.summary())
        return 0
    _print(result, files)
    return 0


def _num(v) -> str:
    return "–" if v is None or v != v else f"{v:.4f}"


def _print(result, files) -> None:
    say(f"{result.kind}: output {result.output}, {result.split} split, {result.samples} samples, "
        f"{result.checkpoint} weights of {result.run}")
    say("  " + "  ".join(f"{k} {_num(v)}" for k, v in result.metrics.items()))
    if result.table:
        keys = [k for k in result.table[0] if k != "class"]
        width = max(5, max(len(str(r["class"])) for r in result.table[:200]))
        say(f"  {'class':<{width}}  " + "  ".join(f"{k:>9}" for k in keys))
        for row in result.table[:200]:
            say(f"  {str(row['class']):<{width}}  " + "  ".join(
                f"{_num(row[k]) if isinstance(row[k], float) else row[k]:>9}" for k in keys))
        if len(result.table) > 200:
            say(f"  ... {len(result.table) - 200} more classes (--json or --out for all)")
    if result.pairs:
        say("  most confused: " + ", ".join(f"{p['true']} as {p['predicted']} ({p['count']})"
                                            for p in result.pairs[:5]))
    if result.kind == "seq2seq":
        for row in [r for r in result.rows if not r["correct"]][:5]:
            say(f"  {row['source']!r} -> {row['prediction']!r} (target {row['target']!r})")
    for path in files:
        say(f"wrote {path}")
