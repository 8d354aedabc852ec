"""The ``studio`` command line.

``studio [PROJECT]`` opens the editor; ``studio COMMAND ...`` runs a headless command.
Each command lives in its own module in this package, exposing ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Exit codes: 0 success, 1 the work
found problems (or failed), 2 the input could not be read or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from studio import __version__

ORDER = ("check", "train", "export", "import", "devices")


def _command_modules():
    mods = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        mods[module.NAME] = module
    return sorted(mods.values(), key=lambda m: (ORDER.index(m.NAME) if m.NAME in ORDER else len(ORDER), m.NAME))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Layer Studio: design, train and export neural networks. "
        "With no command, opens the editor (on PROJECT, or on a built-in example).",
    )
    parser.add_argument("--version", action="version", version=f"Layer Studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {m.NAME for m in _command_modules()}
    if not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        return _open_editor(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _open_editor([])
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output went away (| head): not an error
        from studio.cli._output import stdout_gone

        stdout_gone()
        return 0


def _open_editor(argv: list[str]) -> int:
    try:
        from studio.ui.app import run_app
    except ImportError as exc:
        if "studio.ui" not in str(exc):
            print(f"studio: the editor cannot start: {exc}", file=sys.stderr)
            return 2
        return _print_example(argv)
    return run_app(argv)


def _print_example(argv: list[str]) -> int:
    """Until the editor exists: show what the example graph is."""
    from studio.cli import check
    from studio.resources import DEFAULT_EXAMPLE, template_path

    path = argv[0] if argv else str(template_path(DEFAULT_EXAMPLE))
    return check.run(argparse.Namespace(project=path, json=False, strict=False, batch_size=64))
