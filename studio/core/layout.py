"""Layered auto-layout: columns by longest path, then barycenter sweeps to reduce crossings.

Pure Python over the graph model (networkx for the layering), so the editor, importers and
templates share it. Every step is linear or n log n: 5,000 nodes in well under a second.
"""

from __future__ import annotations

import math

from studio.core.graph import Graph

LEFT_TO_RIGHT = "lr"
TOP_TO_BOTTOM = "tb"


# Gaps between the top-left corners of neighbouring nodes. The editor draws nodes about
# 184 x 50-110 px and a shape label on each wire, so columns need room for the label.
GAPS = {LEFT_TO_RIGHT: (300.0, 130.0), TOP_TO_BOTTOM: (170.0, 250.0)}


def layered_positions(graph: Graph, direction: str = LEFT_TO_RIGHT, layer_gap: float | None = None,
                      node_gap: float | None = None, sweeps: int = 4,
                      aspect: float | None = 1.6) -> dict[str, tuple[float, float]]:
    """Positions by layer. A long chain is folded into several bands (rows for
    left-to-right, columns for top-to-bottom) so the drawing's width/height comes close
    to ``aspect`` and stays readable on a screen; ``aspect=None`` never folds."""
    layer_gap = GAPS[direction][0] if layer_gap is None else layer_gap
    node_gap = GAPS[direction][1] if node_gap is None else node_gap
    order, cyclic = graph.topological_order()
    order = order + cyclic
    preds: dict[str, list[str]] = {n: [] for n in order}
    succs: dict[str, list[str]] = {n: [] for n in order}
    for e in graph.edges:
        preds[e.dst].append(e.src)
        succs[e.src].append(e.dst)
    rank = _layers(order, succs)
    # Pull sources (extra inputs) next to their first consumer instead of column 0.
    for n in reversed(order):
        if not preds[n] and succs[n]:
            rank[n] = max(0, min(rank[s] for s in succs[n]) - 1)
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for n in order:
        layers[rank[n]].append(n)
    pos_in_layer = {n: i for layer in layers for i, n in enumerate(layer)}

    def key_in(neighbours):
        def key(n):
            ns = [pos_in_layer[m] for m in neighbours[n]]
            return sum(ns) / len(ns) if ns else pos_in_layer[n]
        return key

    def sweep(layer_seq, neighbours):
        key = key_in(neighbours)
        for layer in layer_seq:
            if len(layer) < 2:
                continue  # nothing to reorder (a chain's layers): linear with a small constant
            layer.sort(key=key)
            for i, n in enumerate(layer):
                pos_in_layer[n] = i

    for _ in range(sweeps):
        sweep(layers[1:], preds)
        sweep(reversed(layers[:-1]), succs)

    per_band = _band_length(layers, direction, layer_gap, node_gap, aspect)
    positions = {}
    band_start = 0.0
    for b in range(0, len(layers), per_band):
        band = layers[b:b + per_band]
        widest = max(len(layer) for layer in band)
        centre = band_start + (widest - 1) / 2.0 * node_gap
        for r, layer in enumerate(band):
            offset = -(len(layer) - 1) / 2.0
            for i, n in enumerate(layer):
                along, across = r * layer_gap, centre + (offset + i) * node_gap
                positions[n] = (along, across) if direction == LEFT_TO_RIGHT else (across, along)
        band_start += widest * node_gap + BAND_GAP
    return positions


BAND_GAP = 90.0  # extra room between folded bands, for the wire that returns to the start


def _layers(nodes: list[str], succs: dict[str, list[str]]) -> dict[str, int]:
    """Each node's layer: the longest path to it from a node with no inputs (networkx's
    topological generations). A cycle, which only a file can hold, is first collapsed to
    one node, so its members share a layer."""
    import networkx as nx  # here, not at the top: the editor opens before anything is laid out

    dag = nx.DiGraph()
    dag.add_nodes_from(nodes)
    dag.add_edges_from((a, b) for a in nodes for b in succs[a])
    try:
        return {n: depth for depth, gen in enumerate(nx.topological_generations(dag)) for n in gen}
    except nx.NetworkXUnfeasible:
        condensed = nx.condensation(dag)
        depth_of = {c: depth for depth, gen in enumerate(nx.topological_generations(condensed)) for c in gen}
        return {n: depth_of[c] for n, c in condensed.graph["mapping"].items()}


def _band_length(layers: list[list[str]], direction: str, layer_gap: float, node_gap: float,
                 aspect: float | None) -> int:
    n = len(layers)
    if aspect is None or n <= 6:
        return max(n, 1)
    best, best_score = n, None
    # Every length up to 64, then a geometric ladder: enough to hit the aspect, and
    # linear in the number of layers for graphs of thousands of nodes.
    candidates = sorted(set(range(4, min(n, 64) + 1)) | {int(64 * 1.15 ** i) for i in range(60) if 64 * 1.15 ** i < n} | {n})
    widths = [len(layer) for layer in layers]
    for k in candidates:
        across = sum(max(widths[b:b + k]) * node_gap + BAND_GAP for b in range(0, n, k))
        along = k * layer_gap
        ratio = along / across if direction == LEFT_TO_RIGHT else across / along
        score = abs(math.log(ratio / aspect))
        if best_score is None or score < best_score - 1e-9:
            best, best_score = k, score
    return best


def apply_layout(graph: Graph, direction: str = LEFT_TO_RIGHT) -> None:
    for node_id, pos in layered_positions(graph, direction).items():
        graph.move_node(node_id, pos)
