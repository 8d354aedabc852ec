"""The execution plan: worked out once, run by the module, printed by the code generator."""

from __future__ import annotations

import pytest

import studio.core.analysis as analysis_module
from studio.compile.codegen import generate
from studio.compile.module import compile_graph
from studio.compile.plan import CompileError, build_plan
from studio.core.project import load
from studio.export.formats import export_project
from studio.resources import template_names, template_path


@pytest.fixture
def analyses(monkeypatch):
    """Every graph analysed, in order."""
    seen = []
    real = analysis_module._analyze

    def counting(graph):
        seen.append(graph)
        return real(graph)

    monkeypatch.setattr(analysis_module, "_analyze", counting)
    return seen


@pytest.mark.parametrize("name", template_names())
def test_module_and_code_follow_one_plan_in_one_order(name, analyses):
    graph = load(template_path(name)).graph
    plan = build_plan(graph)
    module = compile_graph(graph, plan=plan)
    code = generate(graph, plan=module.plan)
    assert analyses == [graph]
    order = [s.node for s in plan.steps]
    assert list(module.layers) == order
    forward = code.source.split("class Model(nn.Module)", 1)[1].split("def forward", 1)[1].splitlines()[1:]
    called = [line.split("= self.", 1)[1].split("(")[0] for line in forward if "= self." in line]
    assert called == order  # every node's attribute is its own name in the templates
    assert module.input_names == code.input_names == [i.node for i in plan.inputs]
    assert module.output_names == code.output_names == [o.info.node for o in plan.outputs]


def test_a_graph_with_problems_has_no_plan(registry):
    from studio.core.graph import Graph

    g = Graph(registry)
    g.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    g.add_node("Linear", {"out_features": 2}, node_id="fc")
    g.add_node("Output", node_id="y")
    g.connect("fc", "out", "y", "in")
    with pytest.raises(CompileError, match="fc: input in is not connected"):
        build_plan(g)


@pytest.mark.parametrize("fmt,suffix", [("onnx", ".onnx"), ("pytorch", ".py"), ("torchscript", ".ts.pt")])
def test_an_export_analyses_the_graph_once(fmt, suffix, analyses, tmp_path):
    project = load(template_path("cnn_digits"))
    export_project(project, fmt, tmp_path / f"model{suffix}")
    assert analyses == [project.graph]


def test_a_fixed_length_sequence_adds_one_what_if_analysis(analyses, tmp_path):
    """Whether the input would take any length is asked of a copy, once per export."""
    project = load(template_path("lstm_sequence"))
    fixed = [n.id for n in project.graph if n.type == "Input" and n.params.get("length", 0) > 0]
    export_project(project, "pytorch", tmp_path / "model.py")
    assert analyses[0] is project.graph
    assert len(analyses) == 1 + len(fixed)
    assert all(g is not project.graph for g in analyses[1:])
