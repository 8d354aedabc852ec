"""The vocabulary every layer declaration is written in: typed parameters, ports, shapes,
costs, constructors, roles (a loss's :class:`LossRole`), the kinds of input and the errors
they raise.

It sits below both the graph model (:mod:`studio.core`) and the layers
(:mod:`studio.layers`) and imports neither; the contracts in ``pyproject.toml`` keep it so.
"""

from studio.spec.build import Cost, Ctor
from studio.spec.inputs import InputKind
from studio.spec.params import Param
from studio.spec.ports import Port
from studio.spec.roles import ROLE_INPUT, ROLE_LAYER, ROLE_OUTPUT, LossRole

__all__ = ["Cost", "Ctor", "InputKind", "LossRole", "Param", "Port", "ROLE_INPUT", "ROLE_LAYER", "ROLE_OUTPUT"]
