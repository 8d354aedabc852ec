"""The layer registry: every layer type, built-in or plugin, is added here the same way."""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import Iterator

from studio.spec.errors import StudioError, UnknownLayerType
from studio.spec.inputs import InputKind, register_input_kind, unregister_input_kind
from studio.layers.spec import LayerSpec


class DuplicateLayer(StudioError):
    pass


class LayerRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, LayerSpec] = {}
        self._aliases: dict[str, str] = {}

    def add(self, spec: LayerSpec, source: str = "") -> LayerSpec:
        if source and not spec.source:
            spec = replace(spec, source=source)
        for name in (spec.id, *spec.legacy_ids):
            if name in self._specs or name in self._aliases:
                owner = self._specs.get(name) or self._specs[self._aliases[name]]
                raise DuplicateLayer(
                    f"layer id {name!r} from {spec.source or 'unknown'} is already registered by "
                    f"{owner.source or 'unknown'}"
                )
        self._specs[spec.id] = spec
        for alias in spec.legacy_ids:
            self._aliases[alias] = spec.id
        return spec

    def add_input_kind(self, kind: InputKind, source: str = "") -> InputKind:
        """Declare a kind of data the Input node reads (:mod:`studio.spec.inputs`)."""
        return register_input_kind(kind, source)

    def load_module(self, module: ModuleType, source: str | None = None) -> list[LayerSpec]:
        """Register the layers (and input kinds) of a module exposing ``register(registry)``.

        Built-in families and plugins both come through here. If the module fails
        half-way, nothing it added stays registered.
        """
        register = getattr(module, "register", None)
        if not callable(register):
            raise StudioError(f"{source or module.__name__}: has no register(registry) function")
        staged = _Staging(source or getattr(module, "__file__", None) or module.__name__)
        register(staged)
        added = []
        snapshot = (dict(self._specs), dict(self._aliases))
        kinds: list[str] = []
        try:
            for kind in staged.kinds:
                kinds.append(self.add_input_kind(kind, staged.source).name)
            for spec in staged.specs:
                added.append(self.add(spec, staged.source))
        except Exception:
            self._specs, self._aliases = snapshot
            for name in kinds:
                unregister_input_kind(name)
            raise
        return added

    def resolve(self, type_id: str) -> str:
        if type_id in self._specs:
            return type_id
        if type_id in self._aliases:
            return self._aliases[type_id]
        raise UnknownLayerType(type_id, list(self._specs))

    def get(self, type_id: str) -> LayerSpec:
        return self._specs[self.resolve(type_id)]

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._specs or type_id in self._aliases

    def __iter__(self) -> Iterator[LayerSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def ids(self) -> list[str]:
        return list(self._specs)

    def categories(self) -> dict[str, list[LayerSpec]]:
        out: dict[str, list[LayerSpec]] = {}
        for spec in self._specs.values():
            out.setdefault(spec.category, []).append(spec)
        return out


class _Staging:
    """What a module's ``register`` sees: collects specs so a failing module adds nothing."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.specs: list[LayerSpec] = []
        self.kinds: list[InputKind] = []

    def add(self, spec: LayerSpec) -> LayerSpec:
        self.specs.append(spec)
        return spec

    def add_input_kind(self, kind: InputKind) -> InputKind:
        self.kinds.append(kind)
        return kind
