"""Readable PyTorch source for a graph: one file, one ``nn.Module``, torch only.

The code prints the compiler's :class:`~studio.compile.plan.ExecutionPlan`: each step
becomes a submodule named after its node, built from the same :class:`Ctor` the compiler
uses, and one line of ``forward``, in the plan's order. Classes
that ``torch.nn`` lacks (from :mod:`studio.layers.modules` or a plugin) are copied in
with ``inspect.getsource``, so the file runs where Layer Studio is not installed.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap
from dataclasses import dataclass

from studio import __version__
from studio.compile.plan import CompileError, ExecutionPlan, build_plan
from studio.core.graph import RESERVED_NAMES, Graph


class CodegenError(CompileError):
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


def _safe(name: str, taken: set[str]) -> str:
    out = name
    while out in RESERVED_NAMES or out in taken:  # the names node names may not take either
        out += "_"
    taken.add(out)
    return out


def generate(graph: Graph, class_name: str = "Model", title: str = "", weights_file: str = "model.pt",
             plan: ExecutionPlan | None = None) -> GeneratedCode:
    """Source that computes what the module compiled from ``plan`` computes: the same
    steps in the same order, printed. Without a plan, the graph's is built."""
    try:
        plan = plan or build_plan(graph)
    except CompileError as exc:
        raise CodegenError(str(exc)) from None
    helpers: dict[str, str] = {}
    attrs: set[str] = set()
    variables: set[str] = set()
    init_lines: list[str] = []
    body: list[str] = []
    key_map: dict[str, str] = {}
    names: dict[int, str] = {}  # slot -> variable

    inputs = []
    for i in plan.inputs:
        names[i.slot] = _safe(i.node, variables)
        inputs.append(names[i.slot])
    for step in plan.steps:
        attr = _safe(step.node, attrs)
        key_map[f"layers.{step.node}."] = f"{attr}."
        init_lines.append(f"self.{attr} = {_ctor_source(step.ctor(), helpers, step.node)}")
        args = ", ".join("None" if s is None else names[s] for s in step.args)
        if len(step.outputs) == 1:
            names[step.outputs[0][1]] = _safe(step.node, variables)
        else:
            for port, s in step.outputs:
                names[s] = _safe(f"{step.node}_{port}", variables)
        targets = ", ".join(names[s] for _, s in step.outputs)
        body.append(f"{targets} = self.{attr}({args})")

    outputs = [(o.info.node, names[o.slot]) for o in plan.outputs]
    ret = ", ".join(v for _, v in outputs)
    body.append(f"return {ret}")
    source = _render(class_name, title or class_name, weights_file, helpers, init_lines, inputs, body, outputs)
    try:
        ast.parse(source)
    except SyntaxError as exc:  # a bug here, not the user's: say so plainly
        raise CodegenError(f"generated code does not parse: {exc}") from None
    return GeneratedCode(source, class_name, key_map, inputs, [o for o, _ in outputs])


def _ctor_source(ctor, helpers: dict[str, str], node_id: str) -> str:
    cls = ctor.cls
    import torch.nn as tnn

    if cls.__module__.startswith("torch.nn") and getattr(tnn, cls.__name__, None) is cls:
        name = f"nn.{cls.__name__}"
    else:
        name = cls.__name__
        _add_helper(cls, helpers, node_id)
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


def _add_helper(obj, helpers: dict[str, str], node_id: str) -> None:
    """Copy ``obj``'s source, after the source of the module-level functions, classes,
    constants and imports it uses, so the generated file needs nothing else."""
    name = obj.__name__
    if name in helpers:
        return
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as exc:
        raise CodegenError(f"{node_id}: the source of {obj.__qualname__} is not available ({exc})") from None
    helpers[name] = ""  # claimed first, so mutual references terminate
    scope = vars(sys.modules[obj.__module__]) if obj.__module__ in sys.modules else {}
    used = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    for ident in sorted(used - {"torch", "nn", name} - set(dir(builtins))):
        if ident not in scope:
            continue
        value = scope[ident]
        if inspect.ismodule(value):
            line = f"import {value.__name__}" + ("" if value.__name__ == ident else f" as {ident}")
            helpers.setdefault(f"import {ident}", line)
        elif (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__.split(".")[0] == "torch":
            helpers.setdefault(f"import {ident}", f"from {value.__module__} import {value.__name__} as {ident}")
        elif inspect.isclass(value) or inspect.isfunction(value):
            _add_helper(value, helpers, node_id)
        elif isinstance(value, (int, float, str, bool, tuple)) and ast.literal_eval(repr(value)) == value:
            helpers.setdefault(f"const {ident}", f"{ident} = {value!r}")
    del helpers[name]
    helpers[name] = source  # after everything it uses


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
    imports = [v for k, v in helpers.items() if k.startswith("import ")]
    consts = [v for k, v in helpers.items() if k.startswith("const ")]
    if imports:
        at = lines.index("import torch")
        lines[at:at] = sorted(imports) + [""]
    if consts:
        lines += consts + [""]
    for key, src in helpers.items():
        if not key.startswith(("import ", "const ")):
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
