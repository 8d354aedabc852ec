"""The project file: plain, versioned JSON that diffs well and never runs anything.

Layout (format 1)::

    {
      "format": 1,
      "generator": "Layer Studio 0.1.0",
      "name": "...", "description": "...",
      "nodes": [{"id": "conv_1", "type": "Conv2d", "params": {...}}, ...],
      "edges": [{"from": "input_1.out", "to": "conv_1.in"}, ...],
      "layout": {"conv_1": [x, y], ...},
      "data": {"dataset": "digits", ...},
      "training": {"optimizer": "adam", ...}
    }

Keys are written in a fixed order, nodes and wires in the order they were added, and
every parameter is written, so a one-value change is a one-line diff. Older formats are
upgraded step by step through :data:`MIGRATIONS`; layer types are resolved through the
registry, which knows legacy ids.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio import __version__
from studio.core.atomic import atomic_write_text, remove_stale_temporaries
from studio.core.bulk import collector_paused
from studio.core.errors import BadParameter, GraphError, ProjectFileError, StudioError
from studio.core.files import NotReadable, read_regular
from studio.core.graph import BadTrainingValue, Graph
from studio.core.settings import default_training, validate_training

FORMAT = 1
MAX_BYTES = 64 * 1024 * 1024  # a project file larger than this is refused before it is read

# MIGRATIONS[n] turns a format-n document into a format-(n+1) document.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


@dataclass
class Project:
    graph: Graph
    name: str = "Untitled"
    description: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=default_training)
    path: Path | None = None  # where Save writes; None for a new project or a template
    # The file this project was read from, kept when ``path`` is cleared (a template opened
    # as a starting point), so files shipped beside it, such as pretrained weights, are found.
    origin: Path | None = None

    @property
    def source_path(self) -> Path | None:
        return self.path or self.origin

    def snapshot(self, doc: dict[str, Any] | None = None, name: str | None = None) -> "Project":
        """An independent copy (of ``doc`` when given: a run's saved copy of this project)
        that keeps this project's file and origin, so data paths, run folders and weights
        beside it resolve as they do for the original. Work on another thread runs on one:
        the editor may change its own copy meanwhile."""
        copy = from_dict(self.to_dict() if doc is None else doc, name or self.name, self.graph.registry)
        copy.path, copy.origin = self.path, self.origin
        return copy

    # ---- writing -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        g = self.graph
        nodes = []
        for n in g.nodes:
            entry: dict[str, Any] = {"id": n.id, "type": n.type, "params": _jsonable(n.params)}
            if n.frozen:
                entry["frozen"] = True
            if n.lr_scale != 1.0:
                entry["lr_scale"] = n.lr_scale
            nodes.append(entry)
        return {
            "format": FORMAT,
            "generator": f"Layer Studio {__version__}",
            "name": self.name,
            "description": self.description,
            "nodes": nodes,
            "edges": [{"from": f"{e.src}.{e.src_port}", "to": f"{e.dst}.{e.dst_port}"} for e in g.edges],
            "layout": {n.id: [round(n.position[0], 1), round(n.position[1], 1)] for n in g.nodes},
            "data": self.data,
            "training": self.training,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write atomically (temporary file, fsync, rename), removing temporaries that an
        earlier save of the same file left when it was killed."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise StudioError("this project has no file yet: choose where to save it")
        text = self.dumps()
        remove_stale_temporaries(target)
        atomic_write_text(target, text)
        self.path = target
        return target


WEIGHTS_SUFFIX = ".weights.safetensors"


def weights_beside(project_path: str | os.PathLike) -> Path:
    """``<stem>.weights.safetensors`` beside a project file: the weights an imported model
    comes with, a template's pretrained body, or what "Start from weights" kept. Training
    starts from them and exports default to them."""
    p = Path(project_path)
    return p.with_name(p.stem + WEIGHTS_SUFFIX)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


# ---- reading ---------------------------------------------------------------------------

def load(path: str | os.PathLike, registry=None) -> Project:
    """Read a project file. Any problem raises :class:`ProjectFileError` naming the file
    and the JSON path; nothing in the file is executed."""
    path = Path(path)
    name = str(path)
    try:
        raw = _read_regular(path, name)
    except ProjectFileError:
        raise
    except FileNotFoundError:
        raise ProjectFileError(name, "", "no such file") from None
    except IsADirectoryError:
        raise ProjectFileError(name, "", "is a folder, not a project file") from None
    except OSError as exc:
        raise ProjectFileError(name, "", f"cannot be read: {exc.strerror or exc}") from None
    project = loads(raw, name, registry)
    project.path = project.origin = path
    remove_stale_temporaries(path)
    return project


def _read_regular(path: Path, name: str) -> bytes:
    try:
        return read_regular(path, MAX_BYTES, "project file")
    except NotReadable as exc:
        raise ProjectFileError(name, "", exc.reason) from None


def loads(raw: bytes | str, name: str = "<project>", registry=None) -> Project:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise ProjectFileError(name, "", f"is not UTF-8 text (byte {exc.start}); is this a project file?") from None
    try:
        with collector_paused():
            doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(name, "", f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise ProjectFileError(name, "", f"is not valid JSON: {exc}") from None
    return from_dict(doc, name, registry)


# Numbers and text a project file may hold: what loads must also save, and a position or
# parameter must be a number the editor and torch can use. A whole number beyond 2**53
# cannot be kept exactly as a float (and 10**400 overflows one).
MAX_WHOLE = 2**53
MAX_COORDINATE = 1e8


def _check_values(r: "_Reader", value: Any, where: Any) -> None:
    """Refuse, naming the JSON path, numbers that are not finite or too large to keep and
    text that cannot be written back as UTF-8 (an unpaired surrogate such as \\ud800)."""
    # Containers go on a stack; leaves are checked where they are met, by exact type (what
    # json.loads makes); a path stays (parent, key) and is spelt out only for a failure:
    # a 50,000-node file is checked in linear time with little work per value.
    stack: list[tuple[Any, Any]] = [(value, where)]
    while stack:
        value, where = stack.pop()
        items = value.items() if type(value) is dict else enumerate(value) if type(value) is list else None
        if items is None:
            _check_leaf(r, value, where)
            continue
        for k, v in items:
            t = type(v)
            if t is str:
                if not v.isascii():
                    _check_text(r, v, (where, k))
            elif t is dict or t is list:
                stack.append((v, (where, k)))
            elif not (t is float and -MAX_FLOAT <= v <= MAX_FLOAT) and not (t is int and -MAX_WHOLE <= v <= MAX_WHOLE):
                _check_leaf(r, v, (where, k))
            if type(k) is str and not k.isascii():
                _check_text(r, k, where)


MAX_FLOAT = sys.float_info.max


def _check_leaf(r: "_Reader", value: Any, where: Any) -> None:
    if isinstance(value, dict):
        return _check_values(r, dict(value), where)
    if isinstance(value, list):
        return _check_values(r, list(value), where)
    if isinstance(value, str):
        _check_text(r, value, where)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > MAX_WHOLE:
            raise r.fail(_spell(where), f"the number {_short(value)} is too large (at most 2**53 in size)")
    elif isinstance(value, float) and not math.isfinite(value):
        raise r.fail(_spell(where), "a number too large to store (it reads as infinity)")


def _spell(where: Any) -> str:
    """``(("$", "nodes"), 3)`` -> ``$.nodes[3]``."""
    keys = []
    while not isinstance(where, str):
        where, key = where
        keys.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return where + "".join(reversed(keys))


def _check_text(r: "_Reader", text: str, where: Any) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise r.fail(_spell(where), f"text holds an unpaired surrogate ({text[exc.start]!r}) that cannot be saved") from None


def _short(value: int) -> str:
    digits = str(abs(value)) if value.bit_length() < 4000 else ""
    return f"{'-' if value < 0 else ''}{digits[:6]}... ({len(digits)} digits)" if len(digits) > 12 or not digits \
        else str(value)


def _reject_constant(token: str):
    raise ValueError(f"{token} is not allowed in a project file")


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, message: str) -> ProjectFileError:
        return ProjectFileError(self.name, where, message)

    def get(self, obj: dict, key: str, kind: type | tuple, where: str, default: Any = ...) -> Any:
        if key not in obj:
            if default is ...:
                raise self.fail(where, f"missing {key!r}")
            return default
        value = obj[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float, (int, float)):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            names = " or ".join({dict: "an object", list: "a list", str: "text", int: "a number",
                                 float: "a number", bool: "true/false"}[k] for k in kinds)
            raise self.fail(f"{where}.{key}", f"must be {names}, got {type(value).__name__}")
        return value


def migrate(doc: dict, name: str = "<project>") -> dict:
    version = doc.get("format")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectFileError(name, "$.format", "missing or not a whole number; is this a Layer Studio project?")
    if version > FORMAT:
        raise ProjectFileError(name, "$.format", f"format {version} was written by a newer Layer Studio; "
                               f"this version reads formats up to {FORMAT}")
    while version < FORMAT:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ProjectFileError(name, "$.format", f"format {version} is too old to upgrade")
        doc = step(doc)
        version += 1
        doc["format"] = version
    return doc


def from_dict(doc: Any, name: str = "<project>", registry=None) -> Project:
    with collector_paused():
        return _from_dict(doc, name, registry)


def _from_dict(doc: Any, name: str, registry) -> Project:
    r = _Reader(name)
    if not isinstance(doc, dict):
        raise r.fail("$", "the top level must be a JSON object")
    _check_values(r, doc, "$")
    doc = migrate(doc, name)
    graph = Graph(registry)
    project = Project(graph)
    project.name = r.get(doc, "name", str, "$", "Untitled")
    project.description = r.get(doc, "description", str, "$", "")
    nodes = r.get(doc, "nodes", list, "$")
    edges = r.get(doc, "edges", list, "$", [])
    layout = r.get(doc, "layout", dict, "$", {})
    for i, entry in enumerate(nodes):
        where = f"$.nodes[{i}]"
        if not isinstance(entry, dict):
            raise r.fail(where, "each node must be an object")
        node_id = r.get(entry, "id", str, where)
        type_id = r.get(entry, "type", str, where)
        params = r.get(entry, "params", dict, where, {})
        frozen = r.get(entry, "frozen", bool, where, False)
        lr_scale = r.get(entry, "lr_scale", (int, float), where, 1.0)
        pos = layout.get(node_id, [0, 0])
        if (not isinstance(pos, list) or len(pos) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)):
            raise r.fail(f"$.layout.{node_id}", "a position must be [x, y]")
        if not all(abs(v) <= MAX_COORDINATE for v in pos):
            raise r.fail(f"$.layout.{node_id}", f"a position must lie within ±{MAX_COORDINATE:g}")
        try:
            graph.add_node(type_id, params, node_id=node_id, position=(pos[0], pos[1]),
                           frozen=frozen, lr_scale=lr_scale)
        except BadParameter as exc:
            raise r.fail(f"{where}.params.{exc.param}", str(exc)) from None
        except BadTrainingValue as exc:
            raise r.fail(f"{where}.lr_scale", str(exc)) from None
        except GraphError as exc:
            raise r.fail(where, str(exc)) from None
        except StudioError as exc:
            raise r.fail(where, str(exc)) from None
    for i, entry in enumerate(edges):
        where = f"$.edges[{i}]"
        if not isinstance(entry, dict):
            raise r.fail(where, 'each wire must be an object {"from": "node.port", "to": "node.port"}')
        src = _endpoint(r, r.get(entry, "from", str, where), f"{where}.from")
        dst = _endpoint(r, r.get(entry, "to", str, where), f"{where}.to")
        try:
            # Cycles are kept so that analysis can show them; the editor never makes one.
            graph.connect(src[0], src[1], dst[0], dst[1], allow_cycle=True)
        except GraphError as exc:
            raise r.fail(where, str(exc)) from None
    data = r.get(doc, "data", dict, "$", {})
    _check_plain(r, data, "$.data")
    project.data = data
    training = r.get(doc, "training", dict, "$", {})
    try:
        project.training = validate_training(training)
    except BadParameter as exc:
        raise r.fail(f"$.training.{exc.param}", str(exc)) from None
    return project


def _endpoint(r: _Reader, text: str, where: str) -> tuple[str, str]:
    node, sep, port = text.rpartition(".")
    if not sep or not node or not port:
        raise r.fail(where, f"{text!r} must be written node.port, e.g. conv_1.out")
    return node, port


def _check_plain(r: _Reader, value: Any, where: str, depth: int = 0) -> None:
    if depth > 16:
        raise r.fail(where, "nested too deeply")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(r, v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_plain(r, v, f"{where}[{i}]", depth + 1)
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise r.fail(where, f"unsupported value {type(value).__name__}")
