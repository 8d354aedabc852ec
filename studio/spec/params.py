"""One typed parameter of a layer, a setting or a dataset option: its kind, default,
range and choices.

The inspector, the training panel and the data panel build their editors from a
:class:`Param`; the project file, training settings, dataset and importer options,
augmentations and ``studio data --set`` are validated with it.
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
    """One typed parameter or option.

    Kinds: ``int``, ``float``, ``bool``, ``choice``, ``str``, ``ints`` (a list of
    integers; with ``count``, exactly that many, and one integer stands for all of them),
    ``strs`` (a list of texts), ``key`` (a name, or a position counted from 0) and
    ``file`` / ``folder`` (a path; for ``file``, ``choices`` are the extensions a file
    dialog offers). An ``optional`` value may be None (also written "auto"): the owner
    works it out, e.g. an image size taken from the first image.
    """

    name: str
    kind: str
    default: ParamValue
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""
    optional: bool = False
    count: int | None = None

    def allowed(self) -> str:
        what = self._allowed()
        return f"{what}, or auto" if self.optional else what

    def _allowed(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind in ("str", "strs", "key", "file", "folder"):
            return {"str": "text", "strs": "a list of texts", "key": "a name or a position (an integer)",
                    "file": "a file", "folder": "a folder"}[self.kind]
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        if self.kind == "ints" and self.count:
            return f"{self.count} integers in [{lo}, {hi}]"
        what = {"int": "an integer", "float": "a number", "ints": "a list of integers"}[self.kind]
        return f"{what} in [{lo}, {hi}]"

    def validate(self, layer: str, value: ParamValue) -> ParamValue:
        """Return the value coerced to this parameter's type, or raise :class:`BadParameter`."""
        def bad(msg: str = "") -> BadParameter:
            return BadParameter(layer, self.name, msg or f"{value!r} is not allowed; expected {self.allowed()}")

        k = self.kind
        if self.optional and (value is None or value == "auto"):
            return None
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
        if k in ("str", "file", "folder"):
            if not isinstance(value, str) or len(value) > (200 if k == "str" else 4096):
                raise bad()
            return value
        if k == "key":
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise bad()
            return value
        if k == "strs":
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise bad()
            return tuple(value)
        if k == "ints":
            if self.count and isinstance(value, int) and not isinstance(value, bool):
                value = [value] * self.count
            if not isinstance(value, (list, tuple)) or len(value) > (self.count or 16):
                raise bad()
            if self.count and len(value) != self.count:
                raise bad()
            out = []
            for v in value:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise bad()
                self._check_range(v, bad)
                out.append(v)
            return tuple(out)
        raise AssertionError(f"unknown parameter kind {k!r}")

    def from_text(self, layer: str, text: str) -> ParamValue:
        """A value typed as text (in an editor, or ``--set KEY=VALUE``), validated; a list is
        written with commas ("28, 28"), an empty text is "auto" for an optional value."""
        text = text.strip()
        k = self.kind
        if self.optional and text in ("", "auto"):
            return None
        try:
            if k == "int":
                value: Any = int(text)
            elif k == "float":
                value = float(text)
            elif k == "bool":
                value = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}[text.lower()]
            elif k in ("ints", "strs"):
                parts = [t.strip() for t in text.strip("[]()").split(",") if t.strip()]
                value = [int(t) for t in parts] if k == "ints" else [t.strip("'\"") for t in parts]
            elif k == "key":
                value = int(text) if text.lstrip("-").isdigit() else text
            else:
                value = text
        except (ValueError, KeyError):
            raise BadParameter(layer, self.name, f"{text!r} is not {self.allowed()}") from None
        return self.validate(layer, value)

    def to_text(self, value: ParamValue) -> str:
        """How an editor shows ``value``: the inverse of :meth:`from_text`."""
        if value is None:
            return ""
        if self.kind in ("ints", "strs"):
            return ", ".join(str(v) for v in value)
        if self.kind == "float":
            return f"{value:g}"
        if self.kind == "bool":
            return "true" if value else "false"
        return str(value)

    def _check_range(self, value: float, bad: Callable[..., BadParameter]) -> None:
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise bad()
