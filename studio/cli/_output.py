"""Output helpers shared by the commands: ``--json`` prints one object per line."""

from __future__ import annotations

import os
import sys
from typing import Any

from studio.core import jsontext
from studio.core.errors import clip as clip_text


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


def human(n: float) -> str:
    """1234567 -> '1.23M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:g}"


def human_bytes(n: float) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"
