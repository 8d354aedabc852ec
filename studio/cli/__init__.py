"""The ``studio`` command line.

``studio [PROJECT]`` opens the editor; ``studio COMMAND ...`` runs a headless command.
Each command lives in its own module in this package, exposing ``add_arguments(parser)``
and ``run(args) -> int``; :data:`COMMANDS` names them with their one-line help, so that
``studio --help`` and the choice of a command import no command module (and no torch):
only the command that runs is imported. Exit codes: 0 success, 1 the work found problems
(or failed), 2 the input could not be read or the arguments are wrong.
"""

from __future__ import annotations

import sys

from studio import __version__

# name -> (module, one-line help), in the order --help lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("check", "check a project: per-node shapes, params, FLOPs, totals and problems (exit 1 on errors)"),
    "train": ("train", "train a project and keep the run (weights, checkpoints, metrics); works under torchrun"),
    "export": ("export", "export a project's model (ONNX, PyTorch code, weights, TorchScript), "
                         "checked before it is written"),
    "import": ("import_model", "import an ONNX model as an editable project (weights saved beside it), or with "
                               "--into, start an existing project from another model's matching weights"),
    "devices": ("devices", "list the devices training can use (CPU, CUDA, MPS, XLA) and why others are unavailable"),
    "data": ("data", "load a project's data as training would: sizes, classes, skipped files, Input shapes "
                     "(exit 1 on problems)"),
    "bench": ("bench", "measure a project's model on every device here: training samples/s, latency, "
                       "throughput, memory, share of the device's peak (kept beside the runs)"),
    "evaluate": ("evaluate", "evaluate a trained run on the validation or test split: accuracy, confusion matrix, "
                             "per-class table; --out writes a PNG, CSVs and an HTML report"),
    "predict": ("predict", "predict with a trained run on images, WAV files, CSV rows or text, prepared as "
                           "the training data was"),
}


def command_module(name: str):
    import importlib

    return importlib.import_module(f"{__name__}.{COMMANDS[name][0]}")


def build_parser(command: str | None = None):
    """The ``studio`` parser; only ``command``'s own arguments are declared (its module
    is imported), the others are listed by name and help."""
    from studio.cli._args import Parser

    parser = Parser(
        prog="studio",
        description="Layer Studio: design, train and export neural networks. "
        "With no command, opens the editor (on PROJECT, or on a built-in example).",
    )
    parser.add_argument("--version", action="version", version=f"Layer Studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, text) in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text)
        if name == command:
            module = command_module(name)
            module.add_arguments(p)
            p.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return _open_editor([])
    first = argv[0]
    if first not in COMMANDS and not first.startswith("-"):
        if _is_project_path(first):
            return _open_editor(argv)
        return _unknown_command(first)
    parser = build_parser(first if first in COMMANDS else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an argument error (one line, already printed)
        return exc.code if isinstance(exc.code, int) else 2
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


def _is_project_path(word: str) -> bool:
    import os

    return os.path.exists(word)


def _unknown_command(word: str) -> int:
    """A first word that is neither a command nor a file: a typo, or a command of a newer
    release. Opening the editor on it would block a script, so say what exists."""
    import difflib

    from studio.cli._output import error

    near = difflib.get_close_matches(word, COMMANDS, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    error(f"{word!r} is neither a command nor an existing file{hint} "
          f"(commands: {', '.join(COMMANDS)}; studio --help says more)")
    return 2


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
    import argparse

    from studio.cli import check
    from studio.resources import DEFAULT_EXAMPLE, template_path

    path = argv[0] if argv else str(template_path(DEFAULT_EXAMPLE))
    return check.run(argparse.Namespace(project=path, json=False, strict=False, batch_size=64))
