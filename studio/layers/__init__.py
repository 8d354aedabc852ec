"""Layer specs and the registry. ``default_registry()`` holds the built-ins and the plugins."""

from __future__ import annotations

from studio.layers.registry import DuplicateLayer, LayerRegistry
from studio.layers.spec import Cost, Ctor, LayerSpec, Param, Port

__all__ = ["Cost", "Ctor", "DuplicateLayer", "LayerRegistry", "LayerSpec", "Param", "Port",
           "default_registry", "builtin_registry"]

_default: LayerRegistry | None = None


def builtin_registry() -> LayerRegistry:
    """A fresh registry holding only the built-in layers."""
    from studio.layers.builtin import load_builtins

    reg = LayerRegistry()
    load_builtins(reg)
    return reg


def default_registry() -> LayerRegistry:
    """The process-wide registry: built-ins, then plugins (failures reported, not fatal)."""
    global _default
    if _default is None:
        from studio.plugins import load_plugins

        reg = builtin_registry()
        load_plugins(reg)
        _default = reg
    return _default


def set_default_registry(reg: LayerRegistry | None) -> None:
    """Replace the process-wide registry (tests use this to isolate plugins)."""
    global _default
    _default = reg
