"""New nodes land in a free spot near where they were asked for, never on top of another."""

from __future__ import annotations

import pytest

from studio.core.graph import Graph
from studio.core.placement import FOOTPRINT, free_spot
from studio.core.project import Project, load
from studio.resources import template_path


def _overlapping(graph):
    nodes = graph.nodes
    w, h = FOOTPRINT
    return [(a.id, b.id) for i, a in enumerate(nodes) for b in nodes[i + 1:]
            if abs(a.position[0] - b.position[0]) < w and abs(a.position[1] - b.position[1]) < h]


@pytest.fixture
def doc(qtbot, registry):
    from studio.ui.document import Document

    return Document(Project(Graph(registry)))


def test_nodes_added_at_the_same_place_do_not_cover_each_other(doc):
    for _ in range(12):
        doc.add_node("ReLU", (100.0, 100.0))
    assert _overlapping(doc.graph) == []
    first = doc.graph.nodes[0].position
    assert first == (100.0, 100.0)  # a free place is used as asked
    # ... and the others stay near it
    assert all(abs(n.position[0] - 100) < 800 and abs(n.position[1] - 100) < 800 for n in doc.graph.nodes)


def test_paste_and_duplicate_land_clear_of_the_originals(qtbot, registry):
    from studio.ui.document import Document

    doc = Document(load(template_path("cnn_digits"), registry))
    assert _overlapping(doc.graph) == []
    ids = [n.id for n in doc.graph.nodes][:4]
    for _ in range(3):
        doc.paste(doc.fragment(ids))
    assert _overlapping(doc.graph) == []


def test_double_clicking_a_layer_twice_in_the_palette_gives_two_visible_nodes(make_window):
    window = make_window(plugins=False)
    window.document.set_project(Project(Graph(window.document.graph.registry)))
    window.add_layer_at_center("Linear")
    window.add_layer_at_center("Linear")
    assert len(window.document.graph.nodes) == 2
    assert _overlapping(window.document.graph) == []


def test_free_spot_is_the_wanted_place_when_nothing_is_there():
    assert free_spot((5.0, 7.0), []) == (5.0, 7.0)
    assert free_spot((5.0, 7.0), [(1000.0, 1000.0)]) == (5.0, 7.0)
    assert free_spot((5.0, 7.0), [(5.0, 7.0)]) != (5.0, 7.0)
