"""Where a new node goes: near where the person asked, never on top of another node.

Nodes are treated as boxes of one footprint (the editor draws them 184 px wide and
50-110 px tall); a free spot is searched ring by ring around the wanted place, so the
nearest free place wins and the search stays short on a crowded canvas.
"""

from __future__ import annotations

from typing import Iterable, Sequence

Point = tuple[float, float]

FOOTPRINT = (184.0, 96.0)  # a node's box, as the editor draws it
MARGIN = 16.0  # room left between boxes
STEP = (FOOTPRINT[0] + MARGIN) / 2, (FOOTPRINT[1] + MARGIN) / 2
MAX_RINGS = 60


def _clashes(p: Point, taken: Sequence[Point]) -> bool:
    w, h = FOOTPRINT[0] + MARGIN, FOOTPRINT[1] + MARGIN
    return any(abs(p[0] - q[0]) < w and abs(p[1] - q[1]) < h for q in taken)


def _rings(max_rings: int) -> Iterable[tuple[int, int]]:
    """Grid offsets ring by ring, nearest ring first; in a ring, nearest first."""
    yield 0, 0
    for r in range(1, max_rings + 1):
        cells = [(i, j) for i in range(-r, r + 1) for j in range(-r, r + 1) if max(abs(i), abs(j)) == r]
        cells.sort(key=lambda c: (c[0] ** 2 + c[1] ** 2, -c[0], c[1]))  # prefer right, then down
        yield from cells


def free_offset(group: Sequence[Point], wanted: Point, taken: Iterable[Point]) -> Point:
    """An offset near ``wanted`` that moves every box of ``group`` clear of ``taken``."""
    taken = list(taken)
    if not taken:
        return wanted
    for i, j in _rings(MAX_RINGS):
        off = (wanted[0] + i * STEP[0], wanted[1] + j * STEP[1])
        if not any(_clashes((x + off[0], y + off[1]), taken) for x, y in group):
            return off
    return wanted  # a canvas this crowded: the person asked for this place


def free_spot(wanted: Point, taken: Iterable[Point]) -> Point:
    """The nearest place to ``wanted`` where a new node overlaps none of ``taken``."""
    return free_offset([(0.0, 0.0)], wanted, taken)
