"""Typed errors of the graph model and project file; each message is meant for a person."""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error Layer Studio raises on purpose."""


class GraphError(StudioError):
    """An edit the graph model refuses."""


class UnknownLayerType(GraphError):
    def __init__(self, type_id: str, known: list[str] | None = None) -> None:
        hint = ""
        if known:
            import difflib

            close = difflib.get_close_matches(type_id, known, n=3)
            if close:
                hint = f" (did you mean {', '.join(close)}?)"
        super().__init__(f"unknown layer type {type_id!r}{hint}")
        self.type_id = type_id


class BadParameter(GraphError):
    def __init__(self, layer: str, param: str, message: str) -> None:
        super().__init__(f"{layer}.{param}: {message}")
        self.layer = layer
        self.param = param


class UnknownNode(GraphError):
    def __init__(self, node_id: str) -> None:
        super().__init__(f"no node named {node_id!r}")
        self.node_id = node_id


class DuplicateNode(GraphError):
    def __init__(self, node_id: str) -> None:
        super().__init__(f"a node named {node_id!r} already exists")
        self.node_id = node_id


class PortError(GraphError):
    """A port that does not exist, or an output wired to an output."""


class IncompatiblePorts(PortError):
    """The two ports cannot carry the same tensor (e.g. integer ids into a float layer)."""


class InputAlreadyConnected(PortError):
    def __init__(self, node_id: str, port: str) -> None:
        super().__init__(f"input {node_id}.{port} is already connected; remove that wire first")
        self.node_id = node_id
        self.port = port


class CycleError(GraphError):
    def __init__(self, path: list[str]) -> None:
        super().__init__("this wire would make a cycle: " + " -> ".join(path))
        self.path = path


class ShapeError(StudioError):
    """A shape rule refusing its inputs; the message says what to do about it."""


def clip(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters on one line: a message quotes what a file
    holds, and a file can hold a megabyte in one value."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 25] + f"... ({len(text)} characters)"


class ProjectFileError(StudioError):
    """A project file that cannot be read; names the file and the JSON path."""

    def __init__(self, path: str, where: str, message: str) -> None:
        where, message = clip(where, 200), clip(message)
        loc = f" at {where}" if where else ""
        super().__init__(f"{path}{loc}: {message}")
        self.path = path
        self.where = where
        self.reason = message
