"""The one declaration of a layer type that every part of Layer Studio reads.

The palette shows ``title``/``category``/``doc``; the inspector builds editors from
``params``; shape inference calls ``infer``; analysis calls ``cost``; the compiler and
the code generator both read the :class:`Ctor` that ``build`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

# The vocabulary a declaration is written in lives in studio.spec, below both the graph
# model and the layers; it is re-exported here, where plugins have always imported it.
from studio.spec.build import Cost, Ctor
from studio.spec.errors import BadParameter
from studio.spec.params import Param, Params, ParamValue
from studio.spec.ports import Port
from studio.spec.inputs import InputKind
from studio.spec.roles import ROLE_INPUT, ROLE_LAYER, ROLE_OUTPUT, LossRole
from studio.spec.shapes import TensorShape

__all__ = ["Cost", "Ctor", "InputKind", "LayerSpec", "LossRole", "Param", "ParamValue", "Params", "Port",
           "ROLE_INPUT", "ROLE_LAYER", "ROLE_OUTPUT", "Shapes"]

Shapes = Mapping[str, TensorShape]


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
    loss: LossRole | None = None  # set on a loss layer (role output): what the trainer needs
    id_limit: str | None = None  # the parameter bounding the integer ids this layer reads (a vocabulary)
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
        if self.loss is not None:
            if self.role == ROLE_LAYER:  # a loss marks what the model returns
                object.__setattr__(self, "role", ROLE_OUTPUT)
            if self.role != ROLE_OUTPUT:
                raise TypeError(f"loss layer {self.id!r} needs role={ROLE_OUTPUT!r}")
            for field, (name, kind) in self.loss.params().items():
                if name not in names or self.param(name).kind != kind:
                    raise TypeError(f"loss layer {self.id!r} names {name!r} as its {field}, "
                                    f"which needs a {kind!r} parameter of that name")
        if self.id_limit is not None and (self.id_limit not in names or self.param(self.id_limit).kind != "int"):
            raise TypeError(f"layer {self.id!r}: id_limit {self.id_limit!r} is not one of its int parameters")

    @property
    def is_loss(self) -> bool:
        return self.loss is not None

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
