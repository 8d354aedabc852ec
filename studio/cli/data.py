"""``studio data``: load a project's data (or any dataset) as training would, and report
split sizes, classes, what was skipped and why, and whether the Input nodes fit it."""

from __future__ import annotations

import argparse
import json
import os

from studio.cli._output import emit_json, error
from studio.core.errors import StudioError

SHOW_SKIPPED = 20


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", nargs="?", help="project file (.json); its data section and split settings are used")
    p.add_argument("--dataset", help="a dataset or importer name instead of the project's (see --list)")
    p.add_argument("--path", help="the folder or file an importer reads")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the dataset or importer (repeatable), e.g. --set size=28,28 or "
                        "--set size=[28,28]; --list names each one's options")
    p.add_argument("--list", action="store_true", help="list the built-in datasets and importers")
    p.add_argument("--strict", action="store_true", help="treat skipped items as problems too")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def _options(pairs: list[str], dataset: str) -> dict:
    """``--set KEY=VALUE`` pairs checked against the dataset's declared options: VALUE is
    JSON (``[28, 28]``, ``true``) or text as an editor takes it (``28, 28``, ``species``)."""
    from studio.data.registry import dataset_entry

    entry = dataset_entry(dataset) if dataset else None
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE")
        if entry is None:
            raise ValueError(f"--set {key}: name a --dataset (or a project with a data section) first")
        try:
            param = entry.option(key)
        except StudioError as exc:
            raise ValueError(f"--set {key}: {exc}") from None
        try:
            out[key] = _json_value(param, value, dataset)
        except StudioError:
            try:
                out[key] = param.from_text(dataset, value)
            except StudioError as exc:
                raise ValueError(f"--set {exc}") from None
        if isinstance(out[key], tuple):
            out[key] = list(out[key])
    return out


def _json_value(param, text: str, dataset: str):
    try:
        value = json.loads(text)
    except ValueError:
        from studio.core.errors import BadParameter

        raise BadParameter(dataset, param.name, "not JSON") from None
    return param.validate(dataset, value)


def _unknown_dataset(name: str, known: list[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, known, n=1)
    return (f"--dataset: no dataset or importer named {name!r}" + (f"; did you mean {near[0]!r}?" if near else "")
            + f" (known: {', '.join(known)})")


def _list(as_json: bool) -> int:
    from studio.data.registry import dataset_entry, dataset_names

    for name in dataset_names():
        e = dataset_entry(name)
        if as_json:
            emit_json({"type": "dataset", "name": name, "builtin": e.builtin, "description": e.description,
                       "options": [{"name": p.name, "kind": p.kind, "default": p.default, "allowed": p.allowed(),
                                    "doc": p.doc} for p in e.params]})
        else:
            print(f"{name:14} {'built in' if e.builtin else 'importer':9} {e.description}")
            for p in e.params:
                default = json.dumps(p.default) if p.default is not None else "auto" if p.optional else None
                name = f"{p.name} = {default}" if default else f"{p.name} (required)"
                print(f"{'':25}{name}: {p.doc or p.allowed()}")
    return 0


def _input_checks(project, info) -> list[dict]:
    from studio.data.preview import input_params
    from studio.spec.roles import ROLE_INPUT

    rows = []
    for node in (project.graph.nodes if project else []):
        if project.graph.spec(node).role != ROLE_INPUT:
            continue
        field = node.params.get("field")
        spec = info.inputs.get(field)
        if spec is None:
            rows.append({"type": "input", "node": node.id, "field": field, "ok": False,
                         "message": f"the data has no field {field!r} (it has {', '.join(info.inputs) or 'none'})"})
            continue
        wanted = input_params(spec)
        diff = {k: {"node": node.params.get(k), "data": v} for k, v in wanted.items() if node.params.get(k) != v}
        message = "; ".join(f"{k} is {d['node']} but the data has {d['data']}" for k, d in diff.items())
        rows.append({"type": "input", "node": node.id, "field": field, "ok": not diff, "expected": wanted,
                     "message": message or "fits the data"})
    return rows


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args.json)
    from studio.core.project import load
    from studio.data.preview import class_balance
    from studio.data.registry import data_section, dataset_names, load_data

    try:
        if args.dataset and args.dataset not in dataset_names():
            raise ValueError(_unknown_dataset(args.dataset, dataset_names()))
        project = load(args.project) if args.project else None
        config = data_section(project) if project else {}
        if args.dataset:
            config = {"dataset": args.dataset}
        if args.path:  # typed in the shell: relative to the current folder
            config["path"] = os.path.abspath(os.path.expanduser(args.path))
        config.update(_options(args.set, str(config.get("dataset") or "")))
        if not config.get("dataset"):
            raise ValueError("name a project with a data section, or a --dataset (see --list)")
    except (StudioError, ValueError) as exc:
        if args.json:
            emit_json({"type": "error", "file": str(args.project or ""), "message": str(exc)})
        error(str(exc))
        return 2
    training = project.training if project else {}
    seed, val_split = int(training.get("seed", 0)), float(training.get("val_split", 0.2))
    try:
        split = load_data(config, seed=seed, val_split=val_split)
    except StudioError as exc:
        if args.json:
            emit_json({"type": "error", "dataset": config.get("dataset"), "message": str(exc)})
        error(str(exc))
        return 1
    info = split.info
    balance = class_balance(split) or []
    inputs = _input_checks(project, info)
    problems = sum(not r["ok"] for r in inputs) + (len(split.skipped) if args.strict else 0)
    head = {"type": "dataset", "name": info.name, "task": info.task, "description": info.description,
            "inputs": info.inputs, "classes": info.classes if info.task != "seq2seq" else None,
            "lazy": bool(info.extra.get("lazy")), "augment": config.get("augment")}
    summary = {"type": "summary", "dataset": config["dataset"], "train": len(split.train), "val": len(split.val),
               "skipped": len(split.skipped), "seed": seed, "val_split": val_split, "problems": problems,
               "ok": problems == 0}
    if args.json:
        emit_json(head)
        for name, tr, va in balance:
            emit_json({"type": "class", "name": name, "train": tr, "val": va})
        for item in split.skipped:
            emit_json({"type": "skipped", "item": item})
        for row in inputs:
            emit_json(row)
        emit_json(summary)
    else:
        print(f"{info.name} ({info.task}): {info.description}")
        for field, spec in info.inputs.items():
            print(f"  field {field}: " + ", ".join(f"{k} {v}" for k, v in spec.items()))
        print(f"  {len(split.train):,} training, {len(split.val):,} validation (seed {seed}, "
              f"validation {val_split:g}){', read from disk as needed' if head['lazy'] else ''}")
        for name, tr, va in balance:
            print(f"    {name:>16}: {tr:6,} + {va:,}")
        if split.skipped:
            print(f"  skipped {len(split.skipped)}:")
            for item in split.skipped[:SHOW_SKIPPED]:
                print(f"    {item}")
            if len(split.skipped) > SHOW_SKIPPED:
                print(f"    ... and {len(split.skipped) - SHOW_SKIPPED} more (--json lists all)")
        for row in inputs:
            print(f"  Input {row['node']} ({row['field']}): {'ok' if row['ok'] else 'PROBLEM'}, {row['message']}")
    return 1 if problems else 0
