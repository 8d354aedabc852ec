"""Checksums of the files a run writes (checkpoints, final weights), so a file changed or
damaged after it was written is refused instead of silently resuming or exporting from
altered state.

A run folder keeps ``checksums.json``: for each file, the SHA-256 of its newest version
and of the one before. A digest is recorded *before* its file replaces the old one, so a
crash between the two leaves the old file still listed as good.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from studio.core.atomic import atomic_write_text
from studio.core.errors import StudioError

MANIFEST = "checksums.json"
KEEP = 2


class ChecksumError(StudioError):
    """A file whose bytes differ from every digest recorded when it was written."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(folder: Path) -> dict[str, list[str]]:
    try:
        doc = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: [d for d in v if isinstance(d, str)] for k, v in doc.items() if isinstance(v, list)}


def record(folder: str | Path, relpath: str, sha: str) -> None:
    """Remember ``sha`` as the newest good version of ``folder/relpath``."""
    folder = Path(folder)
    doc = _read(folder)
    doc[relpath] = [sha, *[d for d in doc.get(relpath, []) if d != sha]][:KEEP]
    atomic_write_text(folder / MANIFEST, json.dumps(doc, indent=1, sort_keys=True) + "\n", durable=False)


def recorded(folder: str | Path, relpath: str) -> list[str]:
    return list(_read(Path(folder)).get(relpath, []))


def verify(folder: str | Path, relpath: str, data: bytes) -> None:
    """Raise :class:`ChecksumError` when a digest was recorded for this file and the bytes
    match none. Files written before checksums were kept (no entry) pass."""
    known = recorded(folder, relpath)
    if known and digest(data) not in known:
        raise ChecksumError(f"{Path(folder) / relpath}: its contents differ from what the run wrote (checksum "
                            "mismatch); the file was changed or damaged, so it was not loaded")


def verify_in_run(path: str | Path, data: bytes) -> None:
    """:func:`verify` for a file inside a run folder (its own folder or the one above
    holds the manifest); a file outside any run passes."""
    path = Path(path)
    for folder in (path.parent, path.parent.parent):
        if (folder / MANIFEST).is_file():
            verify(folder, path.relative_to(folder).as_posix(), data)
            return
