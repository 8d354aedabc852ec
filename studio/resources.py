"""Resources by name (templates, icons, themes); unknown names fail with the known list."""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import StudioError

ROOT = Path(__file__).resolve().parent.parent / "resources"


def resources_dir() -> Path:
    return ROOT


def template_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "templates").glob("*.json"))


def template_path(name: str) -> Path:
    path = ROOT / "templates" / f"{name}.json"
    if not path.is_file():
        raise StudioError(f"no template named {name!r}; known: {', '.join(template_names())}")
    return path


def resource(kind: str, name: str) -> Path:
    """A file under ``resources/<kind>/``, e.g. ``resource("icons", "conv.svg")``."""
    path = ROOT / kind / name
    if not path.is_file():
        known = sorted(p.name for p in (ROOT / kind).glob("*")) if (ROOT / kind).is_dir() else []
        raise StudioError(f"no {kind} resource {name!r}; known: {', '.join(known) or 'none'}")
    return path


DEFAULT_EXAMPLE = "cnn_digits"
