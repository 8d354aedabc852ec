"""``studio bench``: how fast a project's model trains and runs on every device here."""

from __future__ import annotations

import argparse

from studio.cli._args import training_setting
from studio.cli._output import emit_json, error, human, human_bytes, say
from studio.cli._progress import steps
from studio.core.errors import StudioError
from studio.core.project import load


def device_selection(text: str) -> list[str]:
    from studio.bench.targets import parse_selection

    try:
        return parse_selection(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def batch_sizes(text: str) -> list[int]:
    parse = training_setting("batch_size")
    words = [w for w in text.split(",") if w.strip()]
    if not words:
        raise argparse.ArgumentTypeError("no batch size given; e.g. 1,8,64")
    return sorted({parse(w) for w in words})


def repeats(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= n <= 100:
        raise argparse.ArgumentTypeError(f"{n} is out of range; expected 1-100")
    return n


def round_ms(text: str) -> float:
    try:
        ms = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= ms <= 60_000:
        raise argparse.ArgumentTypeError(f"{text} is out of range; expected 1-60000 ms")
    return ms


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="project file (.json)")
    p.add_argument("--weights", default=None, help="run folder or weights file (default: random weights; the "
                                                   "speed does not depend on them)")
    p.add_argument("--devices", type=device_selection, default=["all"],
                   help="all (default), or a comma list of cpu, cuda, cuda:N, mps, xla, onnxruntime, "
                        "onnxruntime:PROVIDER (cpu, cuda, tensorrt, openvino, coreml, directml)")
    p.add_argument("--batch-sizes", type=batch_sizes, default=[1, 8, 64],
                   help="inference batch sizes, comma separated (default 1,8,64): latency at the smallest, "
                        "throughput at each")
    p.add_argument("--repeats", type=repeats, default=5,
                   help="rounds that must agree within 5%% before a figure is taken (default 5)")
    p.add_argument("--round-ms", type=round_ms, default=100, help="the least length of one round (default 100)")
    p.add_argument("--no-save", action="store_true", help="do not keep the results beside the project's runs")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    from studio.bench.measure import Settings
    from studio.bench.results import compare, list_saved, load_saved, save_results
    from studio.bench.runner import ABSENT, FAILED, Bench, BenchError
    from studio.bench.targets import list_targets, select
    from studio.export.weights import WeightsError
    from studio.transfer import weights_for_export

    try:
        project = load(args.project)
    except StudioError as exc:
        return _fail(args, str(exc), 2)
    try:
        weights, _ = weights_for_export(project, args.weights)
        if isinstance(weights, str):
            from studio.export.weights import read_state_dict

            weights = read_state_dict(weights)  # a bad file is named before anything is measured
    except (WeightsError, StudioError) as exc:
        return _fail(args, str(exc), 2)

    settings = Settings(repeats=args.repeats, round_s=args.round_ms / 1000)
    bench = Bench(project, weights=weights, batch_sizes=args.batch_sizes, settings=settings)
    targets, unmatched = select(list_targets(), args.devices)
    try:
        ctx = bench.setup()
    except (BenchError, StudioError) as exc:
        return _fail(args, str(exc), 1)
    except WeightsError as exc:
        return _fail(args, str(exc), 2)
    if args.json:
        emit_json({"type": "model", "project": str(args.project), "name": ctx.project_name,
                   "flops_per_sample": ctx.flops_per_sample, "batch_sizes": ctx.batch_sizes,
                   "train_batch_size": ctx.train_batch_size, "inputs": ctx.input_source,
                   "repeats": settings.repeats, "tolerance": settings.tolerance, "note": ctx.data_note or None})
    else:
        say(f"{ctx.project_name}: {human(ctx.flops_per_sample)} FLOPs per sample; inputs: {ctx.input_source}")
        say(f"each figure: the median of {settings.repeats} agreeing rounds (within "
            f"{settings.tolerance:.0%}) after a warm-up; training at batch {ctx.train_batch_size}")
        if ctx.data_note:
            say(ctx.data_note)
    for word in unmatched:
        line = f"no device matches {word!r} on this machine"
        if args.json:
            emit_json({"type": "device", "status": "absent", "target": {"id": word}, "reason": line})
        else:
            say(f"  {word:<34} absent: {line}")

    results = []
    with steps(not args.json) as show:  # a spinner naming the device being measured, on a terminal only
        def progress(text: str) -> None:
            if args.json:
                emit_json({"type": "progress", "message": text})
            show(text)

        for r in bench.run(targets, progress):
            results.append(r)
            if args.json:
                emit_json({"type": "device", **r.to_json()})
            else:
                _print_result(r)

    previous = list_saved(project)
    saved = None
    if not args.no_save:
        saved = save_results(project, ctx, results, settings)
    entries = [r.to_json() for r in results]
    if previous:
        try:
            old = load_saved(previous[-1])
            changes = compare(entries, old)
        except ValueError as exc:
            old, changes = None, {}
            error(f"warning: {exc}")
        if old is not None:
            for target, ratios in changes.items():
                if args.json:
                    emit_json({"type": "comparison", "target": target, "with": str(previous[-1]), "ratios": ratios})
                else:
                    text = ", ".join(f"{k} x{v:.2f}" for k, v in ratios.items())
                    say(f"  vs {previous[-1].name}: {target}: {text}")

    failed = [r for r in results if r.status == FAILED]
    # A device asked for by name that has no available configuration here is a problem;
    # with "all", absent devices are only listed.
    asked_absent = [] if "all" in args.devices else [
        w for w in args.devices if w not in unmatched and not any(t.available for t in select(targets, [w])[0])]
    measured = [r for r in results if r.status not in (FAILED, ABSENT)]
    ok = not failed and not unmatched and not asked_absent and bool(measured)
    summary = {"type": "summary", "ok": ok, "project": str(args.project), "measured": len(measured),
               "failed": len(failed), "absent": len(results) - len(measured) - len(failed) + len(unmatched),
               "saved": str(saved) if saved else None}
    if args.json:
        emit_json(summary)
    else:
        where = f"; saved to {saved}" if saved else ""
        say(f"{len(measured)} measured, {len(failed)} failed, {summary['absent']} absent{where}")
        if not measured:
            error("nothing was measured")
    return 0 if ok else 1


def _print_result(r) -> None:
    t = r.target
    if r.status == "absent":
        say(f"  {t.id:<34} absent: {r.reason}")
        return
    parts = []
    if r.train:
        parts.append(f"train {human(r.train['samples_per_s'])}/s (±{r.train['spread']:.0%})")
    if r.latency:
        parts.append(f"latency p50 {r.latency['p50_ms']:.3g} ms, p99 {r.latency['p99_ms']:.3g} ms")
    best = r.best_throughput
    if best:
        parts.append(f"batch {best['batch_size']} {human(best['samples_per_s'])}/s (±{best['spread']:.0%})")
    pct = r.percent_of_peak
    if pct:
        parts.append("peak " + ", ".join(f"{k} {v:.3g}%" for k, v in pct.items()))
    mem = [f"{k} {human_bytes(v)}" for k, v in r.peak_memory.items() if k != "how" and v is not None]
    if mem:
        parts.append("memory " + ", ".join(mem))
    say(f"  {t.id:<34} " + "; ".join(parts))
    if r.status == "failed":
        say(f"  {'':<34} failed: {r.reason}")


def _fail(args, message: str, code: int) -> int:
    if args.json:
        emit_json({"type": "summary", "ok": False, "project": str(args.project), "message": message})
    error(message)
    return code
