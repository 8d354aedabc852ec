"""Reading a file a person named: only a regular file, and only up to a limit.

A device (``/dev/zero``, ``/dev/urandom``), a pipe or a socket named where a project,
model or weights file belongs would be read forever or until memory runs out; each is
refused before anything is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from studio.core.errors import StudioError


class NotReadable(StudioError):
    """``reason`` says why, for the caller to put after the file's name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_regular(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. Opened without blocking (a
    FIFO with no writer would block the open itself), then checked on the open file, so
    it cannot be swapped between the check and the read. Missing files and folders raise
    ``FileNotFoundError`` / ``IsADirectoryError``; anything else that is not a regular
    file, or too large, raises :class:`NotReadable`."""
    fd = os.open(Path(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(str(path))
        if not stat.S_ISREG(info.st_mode):
            raise NotReadable(f"is not a regular file (a device, pipe or socket); a {what} is a plain file")
        if info.st_size > limit:
            raise NotReadable(f"file is {info.st_size} bytes; a {what} is at most {limit}")
        raw = f.read(limit + 1)
    if len(raw) > limit:  # grew while it was read
        raise NotReadable(f"file is over {limit} bytes; a {what} is at most {limit}")
    return raw
