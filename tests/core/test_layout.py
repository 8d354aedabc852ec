"""Auto-layout, judged as a person looks at it: every node gets a place, no two nodes
overlap, wires run forward in the layout direction (a long chain folds into bands read
like lines of text), a long chain keeps a screen-like shape, and the same graph always
gets the same layout."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys

import pytest

from studio.core.graph import Graph
from studio.core.layout import LEFT_TO_RIGHT, TOP_TO_BOTTOM, apply_layout, layered_positions
from studio.core.project import load
from studio.resources import template_names, template_path

DIRECTIONS = (LEFT_TO_RIGHT, TOP_TO_BOTTOM)
# The size the editor draws a node at (positions are top-left corners): 184 px wide and,
# with up to three rows of ports, up to 110 px tall.
NODE_W, NODE_H = 184.0, 110.0


def _chain(graph: Graph, n: int) -> list[str]:
    ids = [graph.add_node("Input").id]
    for _ in range(n - 1):
        ids.append(graph.add_node("ReLU").id)
        graph.connect(ids[-2], "out", ids[-1], "in")
    return ids


def _random_dag(graph: Graph, n: int, seed: int) -> None:
    """Inputs, single-input layers and two-input merges wired to random earlier nodes."""
    rng = random.Random(seed)
    ids = [graph.add_node("Input").id for _ in range(rng.randint(1, 3))]
    for _ in range(n - len(ids)):
        if rng.random() < 0.3 and len(ids) >= 2:
            node = graph.add_node("Add").id
            a, b = rng.sample(ids, 2)
            graph.connect(a, "out", node, "in1")
            graph.connect(b, "out", node, "in2")
        else:
            node = graph.add_node("ReLU").id
            graph.connect(rng.choice(ids[-6:]), "out", node, "in")
        ids.append(node)


def _graphs(registry):
    """Every template, and random graphs of 5 to 80 nodes."""
    for name in template_names():
        yield name, load(template_path(name), registry).graph
    for seed, n in enumerate((5, 12, 30, 80)):
        g = Graph(registry)
        _random_dag(g, n, seed)
        yield f"random{n}", g


def _overlaps(pos: dict[str, tuple[float, float]]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in itertools.combinations(pos, 2)
            if abs(pos[a][0] - pos[b][0]) < NODE_W and abs(pos[a][1] - pos[b][1]) < NODE_H]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("aspect", [1.6, None], ids=["folded", "unfolded"])
def test_every_node_gets_a_place_and_no_two_overlap(registry, direction, aspect):
    for name, graph in _graphs(registry):
        pos = layered_positions(graph, direction, aspect=aspect)
        assert set(pos) == {n.id for n in graph.nodes}, name
        assert _overlaps(pos) == [], name


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_every_wire_runs_forward_in_the_layout_direction(registry, direction):
    along = 0 if direction == LEFT_TO_RIGHT else 1
    for name, graph in _graphs(registry):
        pos = layered_positions(graph, direction, aspect=None)
        backward = [(e.src, e.dst) for e in graph.edges if pos[e.dst][along] <= pos[e.src][along]]
        assert backward == [], name


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_long_chain_folds_into_bands_read_in_order_and_keeps_a_screen_shape(graph, direction):
    ids = _chain(graph, 60)
    pos = layered_positions(graph, direction, aspect=1.6)
    along, across = (0, 1) if direction == LEFT_TO_RIGHT else (1, 0)
    # Read band by band (rows for left-to-right, columns for top-to-bottom), each from its start.
    reading = sorted(ids, key=lambda n: (pos[n][across], pos[n][along]))
    assert reading == ids
    bands = {pos[n][across] for n in ids}
    assert len(bands) > 1
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    width, height = max(xs) - min(xs) + NODE_W, max(ys) - min(ys) + NODE_H
    assert 0.8 <= width / height <= 3.2, (width, height)  # near 1.6, not a 60-node ribbon


def test_a_short_chain_stays_on_one_line(graph):
    ids = _chain(graph, 5)
    pos = layered_positions(graph, LEFT_TO_RIGHT)
    assert len({pos[n][1] for n in ids}) == 1
    assert [pos[n][0] for n in ids] == sorted(pos[n][0] for n in ids)


def test_the_same_graph_always_gets_the_same_layout(registry):
    for _, graph in _graphs(registry):
        for direction in DIRECTIONS:
            assert layered_positions(graph, direction) == layered_positions(graph.copy(), direction)


def test_the_layout_does_not_depend_on_the_process(tmp_path):
    """String hashing changes between runs of Python: a layout that iterated over a set
    would move nodes around from one session to the next."""
    code = (
        "import json, sys\n"
        "from studio.core.layout import layered_positions\n"
        "from studio.core.project import load\n"
        "from studio.resources import template_names, template_path\n"
        "out = {}\n"
        "for name in template_names():\n"
        "    g = load(template_path(name)).graph\n"
        "    for d in ('lr', 'tb'):\n"
        "        out[f'{name} {d}'] = {k: list(v) for k, v in sorted(layered_positions(g, d).items())}\n"
        "json.dump(out, sys.stdout)\n"
    )
    results = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        results.append(json.loads(proc.stdout))
    assert results[0] == results[1]


def test_a_graph_with_a_cycle_still_gets_a_place_for_every_node(graph):
    _, b = _chain(graph, 2)
    merge, after = graph.add_node("Add").id, graph.add_node("ReLU").id
    graph.connect(b, "out", merge, "in1")
    graph.connect(merge, "out", after, "in")
    graph.connect(after, "out", merge, "in2", allow_cycle=True)  # as a hand-edited file may hold
    pos = layered_positions(graph)
    assert set(pos) == {n.id for n in graph.nodes}
    assert _overlaps(pos) == []


def test_apply_layout_moves_the_nodes_of_the_graph(graph):
    ids = _chain(graph, 4)
    apply_layout(graph, TOP_TO_BOTTOM)
    ys = [graph.node(n).position[1] for n in ids]
    assert ys == sorted(ys) and len(set(ys)) == 4
    assert {n.id: n.position for n in graph.nodes} == layered_positions(graph, TOP_TO_BOTTOM)
