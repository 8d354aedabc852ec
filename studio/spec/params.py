"""One typed parameter of a layer or a setting: its kind, default, range and choices.

The inspector builds its editors from a :class:`Param`, the project file is validated
with it, and training settings are declared with it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from studio.spec.errors import BadParameter

ParamValue = Any
Params = Mapping[str, ParamValue]


@dataclass(frozen=True)
class Param:
    """One typed parameter: ``int``, ``float``, ``bool``, ``choice``, ``str`` or ``ints``."""

    name: str
    kind: str
    default: ParamValue
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def allowed(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        what = {"int": "an integer", "float": "a number", "ints": "a list of integers", "str": "text"}[self.kind]
        if self.kind == "str":
            return what
        return f"{what} in [{lo}, {hi}]"

    def validate(self, layer: str, value: ParamValue) -> ParamValue:
        """Return the value coerced to this parameter's type, or raise :class:`BadParameter`."""
        def bad(msg: str = "") -> BadParameter:
            return BadParameter(layer, self.name, msg or f"{value!r} is not allowed; expected {self.allowed()}")

        k = self.kind
        if k == "bool":
            if isinstance(value, bool):
                return value
            raise bad()
        if k == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad()
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad()
                value = int(value)
            self._check_range(value, bad)
            return value
        if k == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise bad()
            value = float(value)
            self._check_range(value, bad)
            return value
        if k == "choice":
            if value not in self.choices:
                raise bad()
            return value
        if k == "str":
            if not isinstance(value, str) or len(value) > 200:
                raise bad()
            return value
        if k == "ints":
            if not isinstance(value, (list, tuple)) or len(value) > 8:
                raise bad()
            out = []
            for v in value:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise bad()
                self._check_range(v, bad)
                out.append(v)
            return tuple(out)
        raise AssertionError(f"unknown parameter kind {k!r}")

    def _check_range(self, value: float, bad: Callable[..., BadParameter]) -> None:
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise bad()
