"""Transfer learning: start a graph from weights trained elsewhere.

Weights come from a run folder, a safetensors or state_dict file, or an ONNX model (via
the importer). They are matched by node name and shape: a node is loaded only when the
source has a node of the same name whose every tensor has the same shape; every other
node keeps its fresh initialisation, and the report says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import torch

from studio.core.errors import StudioError
from studio.core.project import weights_beside

PREFIX = "layers."


@dataclass
class TransferReport:
    source: str
    matched: list[str] = field(default_factory=list)  # nodes whose weights were all loaded
    skipped: dict[str, str] = field(default_factory=dict)  # node -> why it kept its initial weights
    unused: list[str] = field(default_factory=list)  # source nodes with no counterpart in the graph

    def __str__(self) -> str:
        lines = [f"weights from {self.source}: {len(self.matched)} node(s) loaded"
                 + (f" ({', '.join(self.matched)})" if self.matched else "")]
        lines += [f"  {node} kept its initial weights: {why}" for node, why in self.skipped.items()]
        if self.unused:
            lines.append(f"  not used from the source: {', '.join(self.unused)}")
        return "\n".join(lines)

    def fresh_note(self) -> str:
        """One line for an export from starting weights that left some nodes fresh, else ""."""
        if not self.skipped:
            return ""
        return (f"starting weights loaded into {', '.join(self.matched) or 'no node'}; "
                f"randomly initialised: {', '.join(self.skipped)}")

    def to_json(self) -> dict:
        return {"source": self.source, "matched": self.matched, "skipped": self.skipped, "unused": self.unused}


def read_source(source) -> dict[str, torch.Tensor]:
    """Tensors by compiled-module key from a run folder, weights file or ONNX model."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    if path.suffix.lower() == ".onnx":
        from studio.export.onnx_import import import_onnx

        return import_onnx(path).state
    from studio.export.weights import read_state_dict

    return read_state_dict(path)


def _by_node(state: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    nodes: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        if key.startswith(PREFIX):
            node, _, rest = key[len(PREFIX):].partition(".")
            nodes.setdefault(node, {})[rest] = value
    return nodes


def transfer_weights(module: torch.nn.Module, source, only: list[str] | None = None) -> TransferReport:
    """Load into ``module`` (a compiled GraphModule) every node of ``source`` that matches
    by name and shape; ``only`` restricts loading to those nodes."""
    name = source if isinstance(source, (str, Path)) else "the given weights"
    src = _by_node(read_source(source))
    own = _by_node(module.state_dict())
    report = TransferReport(str(name))
    update: dict[str, torch.Tensor] = {}
    for node, tensors in own.items():
        if only is not None and node not in only:
            report.skipped[node] = "not selected"
            continue
        theirs = src.get(node)
        if theirs is None:
            report.skipped[node] = "no node of this name in the source"
            continue
        if set(theirs) != set(tensors):
            report.skipped[node] = (f"different tensors (source has {', '.join(sorted(theirs))}; "
                                    f"this node has {', '.join(sorted(tensors))}): another layer type?")
            continue
        wrong = [f"{k} is {list(theirs[k].shape)} in the source but {list(v.shape)} here"
                 for k, v in tensors.items() if theirs[k].shape != v.shape]
        if wrong:
            report.skipped[node] = "; ".join(wrong)
            continue
        for k, v in tensors.items():
            update[f"{PREFIX}{node}.{k}"] = theirs[k].to(dtype=v.dtype)
        report.matched.append(node)
    report.unused = [n for n in src if n not in own]
    if update:
        module.load_state_dict(update, strict=False)
    return report


def sibling_weights(project_path: str | Path) -> Path | None:
    """``<name>.weights.safetensors`` beside a project file (what ``studio import`` writes and
    the transfer template ships), or None."""
    candidate = weights_beside(project_path)
    return candidate if candidate.is_file() else None


def starting_weights_path(project) -> Path | None:
    """The weights beside the project's file (or the template it came from), or None."""
    path = getattr(project, "source_path", None) or getattr(project, "path", None)
    return sibling_weights(path) if path is not None else None


def weights_for_export(project, weights) -> tuple[object, TransferReport | None]:
    """What an export of ``project`` loads for ``weights``. A run folder or weights file
    is handed on as it is: it must fit the graph exactly. The project's starting weights
    (the file beside it) are not a whole model: an imported model's are, but a transfer
    template's hold only its pretrained body. They load as training loads them, node by
    node by name and shape, and every other node keeps a fresh initialisation; the
    report says which. Returns the weights to export and that report (None otherwise)."""
    start = starting_weights_path(project)
    if weights is None or start is None or isinstance(weights, Mapping):
        return weights, None
    if Path(weights).resolve() != start.resolve():
        return weights, None
    from studio.compile.module import CompileError, compile_graph

    try:
        module = compile_graph(project.graph)
    except CompileError:
        return weights, None  # the export names what stops it
    report = transfer_weights(module, start)
    return module.state_dict(), report


def attach_weights(project, source) -> tuple[TransferReport, Path]:
    """Make ``source``'s matching weights the project's starting point: they are written
    beside the project file, where training (and the export dialog's default) find them."""
    from studio.compile.module import compile_graph
    from studio.export.weights import save_weights

    if getattr(project, "path", None) is None:
        raise StudioError("save the project first: its starting weights are kept beside its file")
    module = compile_graph(project.graph)
    report = transfer_weights(module, source)
    if not report.matched:
        raise StudioError(f"no weights matched, so nothing was written: {report}")
    matched = set(report.matched)
    state = {k: v for k, v in module.state_dict().items() if k[len(PREFIX):].partition(".")[0] in matched}
    return report, save_weights(state, weights_beside(project.path))
