"""Plugin discovery: layer modules from plugin folders and the ``studio.layers`` entry points.

A plugin is a Python module with a ``register(registry)`` function that adds
:class:`~studio.layers.spec.LayerSpec` objects, exactly as the built-in families do.
Its logic must import without Qt. A plugin that fails to import or register is
reported and skipped; it never stops the others or the app.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # discovery fills any registry it is given; it needs the type only for hints
    from studio.layers.registry import LayerRegistry

ENTRY_POINT_GROUP = "studio.layers"
ENV_PATH = "STUDIO_PLUGIN_PATH"


@dataclass(frozen=True)
class PluginFailure:
    source: str
    error: str
    detail: str = ""

    def __str__(self) -> str:
        return f"plugin {self.source} was skipped: {self.error}"


@dataclass
class PluginReport:
    loaded: list[str]
    failed: list[PluginFailure]


_last_report = PluginReport([], [])


def last_report() -> PluginReport:
    """What the most recent :func:`load_plugins` found (the UI shows the failures)."""
    return _last_report


def plugin_folders() -> list[Path]:
    """The repository's ``plugins/`` folder, then folders listed in ``STUDIO_PLUGIN_PATH``."""
    folders = [Path(__file__).resolve().parent.parent / "plugins"]
    for part in os.environ.get(ENV_PATH, "").split(os.pathsep):
        if part:
            folders.append(Path(part))
    return folders


def load_plugins(registry: LayerRegistry, folders: list[Path] | None = None,
                 entry_points: bool = True) -> PluginReport:
    global _last_report
    report = PluginReport([], [])
    for folder in plugin_folders() if folders is None else folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            _load_file(registry, path, report)
    if entry_points:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            source = f"{ep.name} ({ep.value})"
            try:
                module = ep.load()
                registry.load_module(module, source=source)
                report.loaded.append(source)
            except Exception as exc:
                report.failed.append(_failure(source, exc))
    _last_report = report
    for failure in report.failed:
        print(f"Layer Studio: {failure}", file=sys.stderr)
    return report


def _load_file(registry: LayerRegistry, path: Path, report: PluginReport) -> None:
    name = f"studio_plugin_{path.stem}"
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError("not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        registry.load_module(module, source=str(path))
        report.loaded.append(str(path))
    except Exception as exc:
        report.failed.append(_failure(str(path), exc))


def _failure(source: str, exc: BaseException) -> PluginFailure:
    return PluginFailure(source, f"{type(exc).__name__}: {exc}", traceback.format_exc())
