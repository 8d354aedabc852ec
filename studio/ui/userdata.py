"""Recent files, autosaves and UI preferences, in the user's folder
(:func:`studio.core.userdir.user_dir`, which ``STUDIO_USER_DIR`` overrides)."""

from __future__ import annotations

import json
from pathlib import Path

from studio.core import userdir
from studio.core.atomic import atomic_write_text

MAX_RECENT = 10


def user_dir() -> Path:
    path = userdir.user_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def autosave_dir() -> Path:
    path = user_dir() / "autosave"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _prefs_path() -> Path:
    return user_dir() / "preferences.json"


def load_prefs() -> dict:
    try:
        data = json.loads(_prefs_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # a damaged preferences file must never stop the app


def save_prefs(prefs: dict) -> None:
    try:
        atomic_write_text(_prefs_path(), json.dumps(prefs, indent=2))
    except OSError:
        pass


def recent_files() -> list[str]:
    items = load_prefs().get("recent", [])
    return [p for p in items if isinstance(p, str)][:MAX_RECENT]


def add_recent(path: str | Path) -> list[str]:
    path = str(Path(path).resolve())
    prefs = load_prefs()
    items = [path] + [p for p in prefs.get("recent", []) if p != path]
    prefs["recent"] = items[:MAX_RECENT]
    save_prefs(prefs)
    return prefs["recent"]


def get_pref(name: str, default=None):
    return load_prefs().get(name, default)


def set_pref(name: str, value) -> None:
    prefs = load_prefs()
    prefs[name] = value
    save_prefs(prefs)
