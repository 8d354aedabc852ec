"""Output helpers shared by the commands: ``--json`` prints one object per line."""

from __future__ import annotations

import os
import sys
from typing import Any

from studio.core import jsontext
from studio.core.errors import clip as clip_text
from studio.core.units import human, human_bytes  # noqa: F401  (the commands import them from here)


def emit_json(obj: dict[str, Any]) -> None:
    """One object per line, strict JSON (a NaN is null); a message is clipped like on stderr."""
    if isinstance(obj.get("message"), str):
        obj = {**obj, "message": clip(obj["message"])}
    say(jsontext.dumps(obj, separators=(",", ":"), ensure_ascii=False))


def say(line: str) -> None:
    """A line on stdout, flushed. When the reader goes away (``| head``) the rest is
    dropped and the work (a training run) goes on."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_gone()


def stdout_gone() -> None:
    """Point stdout at the null device, so later writes and the flush at exit succeed."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


# An error is one line of at most this many characters: a value or a path quoted from a
# hostile file can be a megabyte long, and a library's message can run over many lines.
MAX_MESSAGE = 600


def clip(message: str) -> str:
    return clip_text(message, MAX_MESSAGE)


def error(message: str) -> None:
    print(f"studio: {clip(message)}", file=sys.stderr)


def fail(args, code: int, message: str) -> int:
    """Report a command's failure: an ``error`` JSON line with ``--json``, one line on
    stderr always; returns ``code`` for the command to exit with."""
    if getattr(args, "json", False):
        emit_json({"type": "error", "message": message})
    error(message)
    return code
