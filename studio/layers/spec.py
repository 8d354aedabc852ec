"""The one declaration of a layer type that every part of Layer Studio reads.

The palette shows ``title``/``category``/``doc``; the inspector builds editors from
``params``; shape inference calls ``infer``; analysis calls ``cost``; the compiler and
the code generator both read the :class:`Ctor` that ``build`` returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from studio.core.errors import BadParameter
from studio.core.shapes import TensorShape

ParamValue = Any
Params = Mapping[str, ParamValue]
Shapes = Mapping[str, TensorShape]

ROLE_LAYER = "layer"
ROLE_INPUT = "input"
ROLE_OUTPUT = "output"  # loss and plain output nodes: they mark what the model returns


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


@dataclass(frozen=True)
class Port:
    """A named input or output. ``kind`` separates ordinary tensors from recurrent
    state (``[layers, B, H]``), which may only be wired to a state input."""

    name: str
    doc: str = ""
    optional: bool = False
    kind: str = "tensor"  # "tensor" or "state"


@dataclass(frozen=True)
class Cost:
    """Learnable parameters and floating-point operations for one sample."""

    params: int = 0
    flops: int = 0


@dataclass(frozen=True)
class Ctor:
    """How to construct a node's module: a class and keyword arguments.

    The compiler instantiates it; the code generator writes it out as source.
    ``cls`` is a class object (``torch.nn.Conv2d``, or a class from
    :mod:`studio.layers.modules` or a plugin).
    """

    cls: Any
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def create(self) -> Any:
        return self.cls(**self.kwargs)


PortsFn = Callable[[Params], Sequence[Port]]
InferFn = Callable[[Params, Shapes], Mapping[str, TensorShape]]
CostFn = Callable[[Params, Shapes, Shapes], Cost]
BuildFn = Callable[[Params, Shapes], Ctor]


def _no_cost(params: Params, ins: Shapes, outs: Shapes) -> Cost:
    return Cost()


@dataclass(frozen=True)
class LayerSpec:
    id: str
    title: str
    category: str
    doc: str
    params: tuple[Param, ...] = ()
    inputs: tuple[Port, ...] | PortsFn = (Port("in"),)
    outputs: tuple[Port, ...] | PortsFn = (Port("out"),)
    infer: InferFn | None = None
    build: BuildFn | None = None
    cost: CostFn = _no_cost
    role: str = ROLE_LAYER
    legacy_ids: tuple[str, ...] = ()
    export_notes: str = ""
    onnx_exportable: bool = True  # False: the ONNX exporter refuses this layer, giving export_notes as the reason
    # Set by the registry: the module (or plugin file) that declared this layer.
    source: str = ""

    def __post_init__(self) -> None:
        if self.infer is None:
            raise TypeError(f"layer {self.id!r} needs a shape rule (infer)")
        if self.role != ROLE_INPUT and self.build is None:
            raise TypeError(f"layer {self.id!r} needs a torch builder (build)")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise TypeError(f"layer {self.id!r} declares a parameter twice")

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}

    def validate_params(self, params: Params) -> dict[str, ParamValue]:
        """Complete ``params`` with defaults and validate every value; unknown names raise."""
        known = {p.name: p for p in self.params}
        for name in params:
            if name not in known:
                raise BadParameter(self.id, name, f"{self.id} has no parameter {name!r}; it has "
                                   + (", ".join(known) or "none"))
        out = {}
        for p in self.params:
            out[p.name] = p.validate(self.id, params[p.name]) if p.name in params else p.default
        return out

    def input_ports(self, params: Params) -> tuple[Port, ...]:
        return tuple(self.inputs(params)) if callable(self.inputs) else self.inputs

    def output_ports(self, params: Params) -> tuple[Port, ...]:
        return tuple(self.outputs(params)) if callable(self.outputs) else self.outputs
