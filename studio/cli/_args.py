"""Arguments shared by the commands: a parser whose errors are one line, values checked
against the same declarations the project file uses, and output paths checked before
any work starts."""

from __future__ import annotations

import argparse
import os
import sys


class Parser(argparse.ArgumentParser):
    """An argument error is one line on stderr (and exit 2), not the usage block."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        from studio.cli._output import clip

        print(f"{self.prog}: {clip(message)} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def training_setting(name: str):
    """An argparse type for the whole-number training setting ``name`` (``epochs``,
    ``batch_size``), checked against its declaration: the range a project file allows."""

    def parse(text: str) -> int:
        from studio.core.errors import BadParameter
        from studio.core.settings import validate_training

        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_short(text)} is not a whole number") from None
        try:
            return validate_training({name: value})[name]
        except BadParameter as exc:  # "... is not allowed; expected an integer in [1, 1e+06]"
            expected = str(exc).rpartition("; ")[2]
            raise argparse.ArgumentTypeError(f"{_short(text)} is out of range; {expected}") from None

    parse.__name__ = name  # argparse names the type in its messages
    return parse


def device_spec(text: str) -> str:
    """``--device``: the spelling is checked here; whether the device exists, when training starts."""
    spec = text.strip().lower()
    kind, _, index = spec.partition(":")
    if spec in ("auto", "cpu", "mps", "xla", "cuda") or (kind == "cuda" and index.isdigit()):
        return spec
    raise argparse.ArgumentTypeError(f"{_short(text)} is not a device; use auto, cpu, cuda, cuda:N, mps or xla")


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


# ---- output paths ---------------------------------------------------------------------

def output_problem(path: str | os.PathLike, *, folder: bool = False) -> str | None:
    """Why ``path`` cannot be written as a file (or, with ``folder``, made a folder for a
    run), or None. Nothing is created: the nearest existing folder is probed with a
    temporary file that is removed at once, so ``/proc``, read-only places and a path
    under a regular file are refused before any work starts."""
    import tempfile
    from pathlib import Path

    target = Path(path)
    if str(path) == "":
        return "the output path is empty"
    if target.exists():
        if folder and not target.is_dir():
            return f"{target} is a file, not a folder"
        if not folder and target.is_dir():
            return f"{target} is a folder; give a file name inside it"
        if not folder and not target.is_file():
            return f"{target} is not a regular file; give a file name"
        if folder and (target / "run.json").exists():
            return f"{target} holds a run already; continue it with --resume, or choose a new folder"
    parent = target if folder and target.is_dir() else target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, so nothing can be written under it"
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".studio-probe-")
    except OSError as exc:
        return f"cannot write in {parent}: {exc.strerror or exc}"
    os.close(fd)
    os.unlink(probe)
    return None
