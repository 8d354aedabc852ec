""""Ready" is a promise: every project that analysis calls ready compiles, and a forward
pass runs. Parameters are mutated within their declared ranges, so a shape rule that
ignores a parameter its builder uses (an Embedding's padding_idx beyond its size, a
Softmax dim beyond the rank) shows up here as a graph called ready that then fails."""

from __future__ import annotations

import random

import pytest
import torch

from studio.compile import compile_graph
from studio.core.analysis import analyze
from studio.core.errors import GraphError
from studio.core.project import load
from studio.resources import template_names, template_path

torch.set_num_threads(1)
MUTANTS_PER_TEMPLATE = 25


def _candidates(param, current, siblings=()):
    """Edge values for ``param``; ``siblings`` are the node's other numbers, since one
    parameter often bounds another (padding_idx < num_embeddings)."""
    if param.kind == "bool":
        return [True, False]
    if param.kind == "choice":
        return list(param.choices)
    if param.kind not in ("int", "float"):
        return []
    base = current if isinstance(current, (int, float)) else param.default
    values = [base + 1, base - 1, -base, 2 * base, 0, 1, 3, 7, 100, -1, -3]
    for other in siblings:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            values += [other, other - 1, other + 1]
    if param.min is not None:
        values += [param.min, param.min + 1]
    if param.max is not None and param.max <= 1000:
        values += [param.max, param.max - 1]
    ok = [v for v in values if abs(v) <= 4096  # edge cases, not big models
          if (param.min is None or v >= param.min) and (param.max is None or v <= param.max)]
    return [int(v) for v in ok] if param.kind == "int" else [float(v) for v in ok]


def _symbols(graph):
    return {"T": 5, "S": 2000}


@pytest.mark.parametrize("template", template_names())
def test_every_mutant_called_ready_compiles_and_runs(template, registry):
    rng = random.Random(f"ready-{template}")
    ran = 0
    for _ in range(MUTANTS_PER_TEMPLATE):
        project = load(template_path(template), registry)
        g = project.graph
        for _ in range(rng.randint(1, 2)):
            node = rng.choice(g.nodes)
            spec = g.spec(node)
            params = [p for p in spec.params if _candidates(p, node.params.get(p.name))]
            if not params:
                continue
            p = rng.choice(params)
            try:
                g.set_params(node.id, {p.name: rng.choice(_candidates(p, node.params[p.name]))})
            except GraphError:
                continue
        a = analyze(g)
        if not a.ready:
            continue
        model = compile_graph(g, a).eval()
        inputs = model.example_inputs(2, _symbols(g))
        with torch.no_grad():
            model(*inputs)
        ran += 1
    assert ran >= 3  # most mutants stay ready; a run of only refusals would prove nothing


INPUTS = {
    "image": {"kind": "image", "channels": 2, "height": 8, "width": 8},
    "sequence": {"kind": "sequence", "length": 6, "features": 4},
    "vector": {"kind": "vector", "features": 6},
    "tokens": {"kind": "tokens", "length": 5},
    "waveform": {"kind": "waveform", "length": 800},
}


def _single_layer_graph(registry, spec, kind):
    """Input -> the layer (every required input fed the same tensor) -> Output per output."""
    from studio.core.graph import Graph

    g = Graph(registry)
    g.add_node("Input", INPUTS[kind], node_id="x")
    g.add_node(spec.id, node_id="layer")
    for port in g.input_ports("layer"):
        if not port.optional and port.kind == "tensor":
            g.connect("x", "out", "layer", port.name)
    for i, port in enumerate(g.output_ports("layer")):
        if port.kind == "tensor":
            g.add_node("Output", node_id=f"out{i}")
            g.connect("layer", port.name, f"out{i}", "in")
    return g


def _plain_layers(registry):
    from studio.layers.spec import ROLE_LAYER

    return [s for s in registry if s.role == ROLE_LAYER]


MAX_RUNS_PER_LAYER_AND_INPUT = 30  # a seeded sample keeps the slow layers (LogMel) quick


def test_every_layer_parameter_value_called_ready_compiles_and_runs(registry):
    """Each layer on each input it accepts, each parameter set to edge values in turn."""
    checked = 0
    failures = []
    for spec in _plain_layers(registry):
        for kind in INPUTS:
            try:
                g = _single_layer_graph(registry, spec, kind)
            except GraphError:
                continue
            if analyze(g).build_errors:
                continue
            node_params = g.node("layer").params
            cross, plain = [], []  # values taken from the node's other parameters are always tried
            for p in spec.params:
                siblings = [v for k, v in node_params.items() if k != p.name]
                own = set(_candidates(p, node_params.get(p.name)))
                for value in _candidates(p, node_params.get(p.name), siblings):
                    (plain if value in own else cross).append((p, value))
            rng = random.Random(f"{spec.id}-{kind}")
            if len(cross) > MAX_RUNS_PER_LAYER_AND_INPUT:
                cross = rng.sample(cross, MAX_RUNS_PER_LAYER_AND_INPUT)
            room = max(0, MAX_RUNS_PER_LAYER_AND_INPUT - len(cross))
            trials = cross + (rng.sample(plain, room) if len(plain) > room else plain)
            for p, value in trials:
                old = g.node("layer").params[p.name]
                try:
                    g.set_params("layer", {p.name: value})
                except GraphError:
                    continue
                a = analyze(g)
                if not a.build_errors:  # no loss here: ready for inference and export
                    try:
                        model = compile_graph(g, a).eval()
                        with torch.no_grad():
                            model(*model.example_inputs(2, {"T": 5, "S": 800}))
                        checked += 1
                    except Exception as exc:  # noqa: BLE001 - collected and reported below
                        failures.append(f"{spec.id} on {kind} with {p.name}={value!r}: "
                                        f"{type(exc).__name__}: {str(exc)[:120]}")
                g.set_params("layer", {p.name: old})
    assert not failures, "called ready, then failed:\n" + "\n".join(failures)
    assert checked > 200


def test_the_two_rules_found_this_way_name_the_parameter(registry):
    g = _single_layer_graph(registry, registry.get("Softmax"), "vector")
    g.set_params("layer", {"dim": 5})
    assert any("dim 5 does not exist" in str(p) and p.node == "layer" for p in analyze(g).errors)
    g = _single_layer_graph(registry, registry.get("Embedding"), "tokens")
    g.set_params("layer", {"num_embeddings": 10, "padding_idx": 10})
    assert any("padding_idx 10 must be below num_embeddings 10" in str(p) for p in analyze(g).errors)
