"""Readable PyTorch source for a graph: one file, one ``nn.Module``, torch only.

Each node becomes a submodule named after it, built from the same :class:`Ctor` the
compiler uses; ``forward`` is written out line by line in topological order. Classes
that ``torch.nn`` lacks (from :mod:`studio.layers.modules` or a plugin) are copied in
with ``inspect.getsource``, so the file runs where Layer Studio is not installed.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import textwrap
from dataclasses import dataclass

from studio import __version__
from studio.core.analysis import analyze
from studio.core.errors import StudioError
from studio.core.graph import Graph
from studio.layers.spec import ROLE_INPUT, ROLE_OUTPUT


class CodegenError(StudioError):
    pass


@dataclass
class GeneratedCode:
    source: str
    class_name: str
    # compiled-module state_dict key prefix -> generated-module prefix, e.g.
    # "layers.conv1." -> "conv1."
    key_map: dict[str, str]
    input_names: list[str]
    output_names: list[str]

    def rename_state(self, state: dict) -> dict:
        """The compiled module's weights under the generated module's names."""
        out = {}
        for key, value in state.items():
            for old, new in self.key_map.items():
                if key.startswith(old):
                    out[new + key[len(old):]] = value
                    break
        return out


_RESERVED = set(dir(__import__("torch").nn.Module)) | {"torch", "nn", "self", "annotations"}


def _safe(name: str, taken: set[str]) -> str:
    out = name
    while keyword.iskeyword(out) or out in _RESERVED or out in taken:
        out += "_"
    taken.add(out)
    return out


def generate(graph: Graph, class_name: str = "Model", title: str = "", weights_file: str = "model.pt") -> GeneratedCode:
    analysis = analyze(graph)
    if analysis.errors:
        raise CodegenError("the graph has problems: " + "; ".join(str(p) for p in analysis.errors))
    helpers: dict[str, str] = {}
    attrs: set[str] = set()
    variables: set[str] = set()
    init_lines: list[str] = []
    body: list[str] = []
    key_map: dict[str, str] = {}
    values: dict[tuple[str, str], str] = {}
    inputs: list[str] = []
    outputs: list[tuple[str, str]] = []

    for node_id in analysis.order:
        node = graph.node(node_id)
        spec = graph.spec(node)
        if spec.role == ROLE_INPUT:
            var = _safe(node_id, variables)
            inputs.append(var)
            values[(node_id, "out")] = var
            continue
        if spec.role == ROLE_OUTPUT:
            edge = graph.edge_into(node_id, "in")
            outputs.append((node_id, values[(edge.src, edge.src_port)]))
            continue
        ctor = spec.build(node.params, analysis.nodes[node_id].inputs)
        attr = _safe(node_id, attrs)
        key_map[f"layers.{node_id}."] = f"{attr}."
        init_lines.append(f"self.{attr} = {_ctor_source(ctor, helpers, node_id)}")
        args = []
        for port in spec.input_ports(node.params):
            e = graph.edge_into(node_id, port.name)
            args.append(values[(e.src, e.src_port)] if e is not None else "None")
        while args and args[-1] == "None":
            args.pop()  # trailing optional inputs left out, as the compiler does
        ports = spec.output_ports(node.params)
        if len(ports) == 1:
            var = _safe(node_id, variables)
            values[(node_id, ports[0].name)] = var
            targets = var
        else:
            names = []
            for p in ports:
                var = _safe(f"{node_id}_{p.name}", variables)
                values[(node_id, p.name)] = var
                names.append(var)
            targets = ", ".join(names)
        body.append(f"{targets} = self.{attr}({', '.join(args)})")

    ret = ", ".join(v for _, v in outputs)
    body.append(f"return {ret}")
    source = _render(class_name, title or class_name, weights_file, helpers, init_lines, inputs, body, outputs)
    try:
        ast.parse(source)
    except SyntaxError as exc:  # a bug here, not the user's: say so plainly
        raise CodegenError(f"generated code does not parse: {exc}") from None
    return GeneratedCode(source, class_name, key_map, [graph.node(n).id for n in analysis.order
                                                      if graph.spec(graph.node(n)).role == ROLE_INPUT],
                         [o for o, _ in outputs])


def _ctor_source(ctor, helpers: dict[str, str], node_id: str) -> str:
    cls = ctor.cls
    import torch.nn as tnn

    if cls.__module__.startswith("torch.nn") and getattr(tnn, cls.__name__, None) is cls:
        name = f"nn.{cls.__name__}"
    else:
        name = cls.__name__
        if name not in helpers:
            try:
                helpers[name] = textwrap.dedent(inspect.getsource(cls))
            except (OSError, TypeError) as exc:
                raise CodegenError(f"{node_id}: the source of {cls.__qualname__} is not available ({exc})") from None
    args = []
    for key, value in ctor.kwargs.items():
        text = repr(value)
        try:
            same = ast.literal_eval(text) == value
        except (ValueError, SyntaxError):
            same = False
        if not same:
            raise CodegenError(f"{node_id}: argument {key}={text} cannot be written as source")
        args.append(f"{key}={text}")
    return f"{name}({', '.join(args)})"


def _render(class_name, title, weights_file, helpers, init_lines, inputs, body, outputs) -> str:
    ind = " " * 8
    out_doc = ", ".join(o for o, _ in outputs)
    lines = [
        f'"""{title}: generated by Layer Studio {__version__}. Depends only on torch.',
        "",
        "Usage::",
        "",
        f"    model = {class_name}()",
        f'    model.load_state_dict(torch.load("{weights_file}", weights_only=True))',
        "    model.eval()",
        f"    {out_doc} = model({', '.join(inputs)})",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import torch",
        "from torch import nn",
        "",
    ]
    for src in helpers.values():
        lines += ["", src.rstrip(), ""]
    lines += [
        "",
        f"class {class_name}(nn.Module):",
        f"    input_names = {inputs!r}",
        f"    output_names = {[o for o, _ in outputs]!r}",
        "",
        "    def __init__(self) -> None:",
        f"{ind}super().__init__()",
        *[ind + line for line in init_lines],
        "",
        f"    def forward(self, {', '.join(inputs)}):",
        *[ind + line for line in body],
        "",
    ]
    return "\n".join(lines)
