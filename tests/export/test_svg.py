"""The SVG drawing of a graph: well-formed, every node and shape shown, no Qt or torch."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from studio.core.analysis import analyze
from studio.core.project import load
from studio.export.svg import graph_svg
from studio.resources import template_names, template_path


@pytest.mark.parametrize("name", template_names())
def test_every_template_draws_as_well_formed_svg_with_its_nodes_and_shapes(name, registry):
    graph = load(template_path(name), registry).graph
    svg = graph_svg(graph)
    root = ET.fromstring(svg)
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {n.id for n in graph.nodes} <= texts
    a = analyze(graph)
    for e in graph.edges:
        assert str(a.nodes[e.src].outputs[e.src_port]) in texts


def test_a_graph_with_an_error_is_drawn_with_a_red_border(registry):
    from studio.core.graph import Graph

    g = Graph(registry)
    g.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    g.add_node("Conv2d", node_id="conv", position=(300, 0))
    g.add_node("Output", node_id="out", position=(600, 0))
    g.connect("x", "out", "conv", "in")
    g.connect("conv", "out", "out", "in")
    assert 'stroke="#e0403a"' in graph_svg(g)


def test_drawing_needs_neither_qt_nor_torch():
    code = ("import sys; from studio.core.project import load; from studio.resources import template_path; "
            "from studio.export.svg import graph_svg; graph_svg(load(template_path('cnn_digits')).graph); "
            "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr
