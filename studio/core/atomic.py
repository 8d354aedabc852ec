"""Atomic file writes: a crash mid-save never leaves a broken or missing file."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path
from typing import Iterator

from studio.core.errors import StudioError


class WriteError(StudioError, OSError):
    """A file that could not be written (disk full, no permission); the old file, if any,
    is kept and no temporary is left. Still an :class:`OSError` for code that expects one."""

    def __init__(self, path: Path, exc: OSError) -> None:
        what = exc.strerror or str(exc) or type(exc).__name__
        StudioError.__init__(self, f"cannot write {path}: {what}")
        self.errno, self.strerror, self.filename = exc.errno, what, str(path)

    def __str__(self) -> str:
        return self.args[0]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "", durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block succeeds, fsync it and
    rename it over ``path``. On any error the temporary file is removed and ``path``
    keeps its old content. Without ``durable`` nothing is fsynced: the file is still
    whole or old after the program dies, but a power cut may lose the newest version."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _new_temporary(path, suffix)
    try:
        try:
            yield tmp_path
        except OSError as exc:  # a full disk, a folder gone: say which file, in one line
            raise WriteError(path, exc) from None
        if durable:
            with open(tmp_path, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise
    if durable:
        _fsync_dir(path.parent)


def temporaries_of(path: str | os.PathLike) -> list[Path]:
    """The temporary files :func:`atomic_path` makes beside ``path`` (``.NAME.*.tmp``)."""
    path = Path(path)
    prefix = f".{path.name}."
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.name.startswith(prefix) and e.name.endswith(".tmp")]


def remove_stale_temporaries(path: str | os.PathLike, older_than: float = 60.0) -> list[Path]:
    """Remove temporaries of ``path`` left by a write that died (kill -9, power cut).

    Only those older than ``older_than`` seconds go, so a save of the same file under way
    in another window keeps its temporary. Returns what was removed.
    """
    removed = []
    cutoff = time.time() - older_than
    for tmp in temporaries_of(path):
        with contextlib.suppress(OSError):
            if tmp.is_file() and not tmp.is_symlink() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed.append(tmp)
    return removed


def atomic_write_bytes(path: str | os.PathLike, data: bytes, durable: bool = True) -> None:
    with atomic_path(path, durable=durable) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()


def atomic_write_text(path: str | os.PathLike, text: str, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def _new_temporary(path: Path, suffix: str) -> Path:
    """An empty, new file beside ``path``. Created with mode 0666 so that the user's umask
    decides the final mode, as for any file a program writes (``tempfile.mkstemp`` would
    make every saved file 0600)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
