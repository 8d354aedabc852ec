"""Typed errors of the graph model and project file; declared in :mod:`studio.spec.errors`,
below both the graph model and the layers, so a shape rule raises the same classes."""

from studio.spec.errors import (
    BadParameter,
    CycleError,
    DuplicateNode,
    GraphError,
    IncompatiblePorts,
    InputAlreadyConnected,
    PortError,
    ProjectFileError,
    ShapeError,
    StudioError,
    UnknownLayerType,
    UnknownNode,
    clip,
)

__all__ = ["BadParameter", "CycleError", "DuplicateNode", "GraphError", "IncompatiblePorts",
           "InputAlreadyConnected", "PortError", "ProjectFileError", "ShapeError", "StudioError",
           "UnknownLayerType", "UnknownNode", "clip"]
