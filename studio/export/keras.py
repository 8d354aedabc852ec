"""Keras 3, both ways, on its PyTorch backend (no TensorFlow).

Export: the graph becomes Keras functional-API source (:func:`keras_source`); running that
source builds the model, the torch weights are set into it, and the saved ``.keras`` file,
loaded back, must give the app's outputs on a real batch (the ONNX export's tolerance)
before anything is written. ``code=True`` also writes the source, readable, beside it.

Import is :mod:`studio.export.keras_import`. The export mapping (a table keyed by layer
id) lives in :mod:`studio.export.keras_layers`. Keras is an optional extra:
``pip install -e ".[keras]"``.
"""

from __future__ import annotations

import keyword
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from studio.core.graph import Graph
from studio.export.common import Blocker, build_module, dynamic_axes, sample_inputs
from studio.export.errors import ExportError
from studio.export.keras_layers import EXPORT, NoKeras
from studio.export.pytorch import ExportReport
from studio.export.tolerance import TOLERANCE, allowed, difference
from studio.export.formats import missing_requirement
from studio.spec.roles import ROLE_INPUT


def keras_backend():
    """Keras on its torch backend (set before Keras is first imported)."""
    problem = missing_requirement("keras")
    if problem:
        raise ExportError(problem)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    if keras.backend.backend() != "torch":
        raise ExportError(f"Keras runs on its {keras.backend.backend()} backend here; Layer Studio needs "
                          "KERAS_BACKEND=torch (set it before Keras is imported)")
    return keras


# ---- export ---------------------------------------------------------------------------------

def python_name(name: str) -> str:
    v = re.sub(r"\W", "_", name)
    if not v or v[0].isdigit() or keyword.iskeyword(v) or v == "keras":
        v = "n_" + v
    return v


def plan_keras(graph: Graph):
    """Per live node in order: (node, steps, input sources); plus the outputs and the
    pre-flight blockers (each node with no Keras form, and why)."""
    from studio.core.analysis import analyze

    analysis = analyze(graph)
    blockers = [Blocker(p.node, p.message) for p in analysis.build_errors]
    nodes, outputs = [], []
    for node_id in analysis.order:
        if node_id not in analysis.live:
            continue
        node, spec = graph.node(node_id), graph.spec(node_id)
        if spec.role == ROLE_INPUT:
            nodes.append((node, None, []))
            continue
        ins = [graph.edge_into(node_id, port.name) for port in graph.input_ports(node)]
        sources = [f"{e.src}.{e.src_port}" for e in ins if e is not None]
        if not graph.output_ports(node):  # an Output or a loss: the model returns what feeds it
            outputs.append((node_id, sources[0]))
            continue
        used = sorted({e.src_port for e in graph.edges_out(node_id)})
        entry = EXPORT.get(spec.id)
        try:
            if entry is None:
                raise NoKeras("no Keras counterpart is mapped for this layer")
            if len(used) > 1:
                raise NoKeras(f"only one of its outputs may be used in a Keras export, not {', '.join(used)}")
            if len(sources) != len([p for p in graph.input_ports(node) if not p.optional]) and spec.id in (
                    "LSTM", "GRU"):
                raise NoKeras("an initial state (h0/c0) has no Keras form here")
            steps = entry(node_id, node.params, {}, used[0] if used else "out")
        except NoKeras as exc:
            blockers.append(Blocker(node_id, f"{spec.title}: {exc}"))
            continue
        nodes.append((node, steps, sources))
    return nodes, outputs, blockers


def keras_preflight(graph: Graph) -> list[Blocker]:
    return plan_keras(graph)[2]


def keras_source(graph: Graph, title: str = "", weights_file: str = "model.keras",
                 free_axes: dict[str, list[int]] | None = None) -> str:
    """Readable Keras functional-API source for ``graph``; raises :class:`ExportError`
    listing every node with no Keras form. ``free_axes``: per Input, the axes left free
    (:func:`studio.export.common.dynamic_axes`), which Keras gets as None."""
    nodes, outputs, blockers = plan_keras(graph)
    if blockers:
        raise ExportError("cannot export to Keras: " + "; ".join(str(b) for b in blockers))
    module_inputs = []
    var_of: dict[str, str] = {}
    lines = []
    for node, steps, sources in nodes:
        if steps is None:
            shape = _input_shape(graph, node.id, (free_axes or {}).get(node.id, [0]))
            dtype = ", dtype='int64'" if shape[1] == "long" else ""
            v = python_name(node.id)
            lines.append(f"    {v} = keras.Input(shape={shape[0]!r}{dtype}, name={node.id!r})")
            module_inputs.append(v)
            var_of[f"{node.id}.out"] = v
            continue
        args = [var_of[s] for s in sources]
        x = f"[{', '.join(args)}]" if len(args) > 1 else args[0]
        used = {e.src_port for e in graph.edges_out(node.id)}
        v = python_name(node.id)
        for i, step in enumerate(steps):
            lines.append(f"    {v} = {step.call}({x if i == 0 else v})")
        for port in used:
            var_of[f"{node.id}.{port}"] = v
    outs = [var_of[src] for _, src in outputs]
    doc = f"{title or 'Model'}, as a Keras functional model (written by Layer Studio)."
    return (f'"""{doc}\n\nTensors are channels first, as in Layer Studio: an image is [batch, channels, height, '
            f'width].\nRun with KERAS_BACKEND=torch. The weights are in {weights_file}.\n"""\n\n'
            "import os\n\nos.environ.setdefault(\"KERAS_BACKEND\", \"torch\")\n\nimport keras  # noqa: E402\n\n\n"
            "def build_model():\n" + "\n".join(lines) + "\n"
            f"    return keras.Model(inputs=[{', '.join(module_inputs)}], outputs=[{', '.join(outs)}], "
            f"name={python_name(title or 'model')!r})\n\n\n"
            "if __name__ == \"__main__\":\n    model = build_model()\n"
            f"    model.load_weights({weights_file!r})\n    model.summary()\n")


def _input_shape(graph: Graph, node_id: str, free: list[int]):
    from studio.core.analysis import analyze

    shape = analyze(graph).nodes[node_id].outputs["out"]
    dims = tuple(d if isinstance(d, int) and i + 1 not in free else None for i, d in enumerate(shape.dims[1:]))
    return dims, shape.dtype


def _build(source: str):
    scope: dict = {"__name__": "studio_keras_model"}
    exec(compile(source, "<keras model>", "exec"), scope)  # our own generated source
    return scope["build_model"]()


def _set_weights(model, graph: Graph, module, nodes) -> None:
    state = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
    by_node: dict[str, dict] = {}
    for key, value in state.items():
        _, node, rest = key.split(".", 2)
        by_node.setdefault(node, {})[rest] = value
    for node, steps, _ in nodes:
        for step in steps or ():
            if step.weights is not None:
                model.get_layer(step.name).set_weights([np.ascontiguousarray(w, dtype=np.float32)
                                                        for w in step.weights(by_node.get(node.id, {}))])


def _run(model, xs) -> list[np.ndarray]:
    import keras

    out = model([x.numpy() for x in xs], training=False)
    out = out if isinstance(out, (list, tuple)) else [out]
    return [keras.ops.convert_to_numpy(o) for o in out]


def export_keras(graph: Graph, path: str | Path, *, weights=None, module=None, data: dict | None = None,
                 title: str = "", code: bool = False, progress=None) -> ExportReport:
    """Write ``path`` (``.keras``) and with ``code`` its source (``.py`` beside it), checked
    against the app's module on a real batch, a second batch size and a second length."""
    from studio.core.atomic import atomic_path

    started = time.perf_counter()
    step = progress or (lambda what, frac: None)
    keras = keras_backend()
    path = Path(path)
    if path.suffix != ".keras":
        path = path.with_suffix(".keras")
    nodes, _, blockers = plan_keras(graph)
    if blockers:
        raise ExportError("cannot export to Keras: " + "; ".join(str(b) for b in blockers))
    module = module if module is not None else build_module(graph, weights)
    module.eval()
    source = keras_source(graph, title, path.name, dynamic_axes(module, graph))
    step("building the Keras model", 0.3)
    try:
        model = _build(source)
        _set_weights(model, graph, module, nodes)
    except Exception as exc:
        raise ExportError(f"Keras could not build the model: {str(exc).splitlines()[0]}") from None
    sample = sample_inputs(module, data, graph)
    checks = []
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / path.name
        model.save(trial)
        step("checking the saved file against the app's model", 0.6)
        loaded = keras.saving.load_model(trial, compile=False, safe_mode=True)
        worst = 0.0
        with torch.no_grad():
            for case, xs in [("data", sample.inputs), *sample.extra]:
                want = module(*xs)
                want = want if isinstance(want, tuple) else (want,)
                got = _run(loaded, xs)
                for name, g, w in zip(module.output_names, got, want):
                    d = difference(g, w.numpy())
                    worst = max(worst, d.abs)
                    if not d.within(TOLERANCE):
                        raise ExportError(f"the Keras model does not reproduce the app's output {name} on {case}: "
                                          f"max difference {d.abs:.3g} (tolerance {allowed(d.magnitude):.3g}); "
                                          "nothing was written")
                checks.append({"case": case, "max_diff": max(difference(g, w.numpy()).abs
                                                             for g, w in zip(got, want))})
        blob = trial.read_bytes()
    files = [str(path)]
    with atomic_path(path) as tmp_path:
        tmp_path.write_bytes(blob)
    size = len(blob)
    if code:
        code_path = path.with_suffix(".py")
        with atomic_path(code_path) as tmp_path:
            tmp_path.write_text(source, encoding="utf-8")
        files.append(str(code_path))
        size += len(source.encode())
    step("done", 1.0)
    return ExportReport("keras", files, size, worst, checks, sample.source, time.perf_counter() - started)
