"""The built-in layer families. Each module is loaded exactly as a plugin is:
through :meth:`LayerRegistry.load_module`, which calls its ``register(registry)``."""

from __future__ import annotations

import importlib
import pkgutil

# Registration order, which is the palette's order; other family modules follow by name.
FAMILIES = ("io", "dense", "activation", "norm", "conv", "recurrent", "attention", "merge")


def family_names() -> list[str]:
    found = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    return [n for n in FAMILIES if n in found] + sorted(n for n in found if n not in FAMILIES)


def load_builtins(registry) -> None:
    for name in family_names():
        module = importlib.import_module(f"{__name__}.{name}")
        registry.load_module(module, source=f"builtin:{name}")
