"""Wire routing: the curve a wire takes from an output to an input, and the detour
around nodes that would hide it. Pure geometry on Qt's path types; the items draw it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath


def wire_path(a: QPointF, b: QPointF, vertical: bool) -> QPainterPath:
    """A smooth wire that leaves an output and enters an input along the flow direction."""
    path = QPainterPath(a)
    # A wire that runs backwards (to the next band of a folded layout) bends only a
    # little, so it does not loop far outside the graph.
    if vertical:
        d = max(40.0, abs(b.y() - a.y()) * 0.5) if b.y() >= a.y() else 60.0
        path.cubicTo(a + QPointF(0, d), b - QPointF(0, d), b)
    else:
        d = max(40.0, abs(b.x() - a.x()) * 0.5) if b.x() >= a.x() else 60.0
        path.cubicTo(a + QPointF(d, 0), b - QPointF(d, 0), b)
    return path


def detour_path(a: QPointF, b: QPointF, vertical: bool, level: float) -> QPainterPath:
    """A wire that swings out to ``level`` (a y for left-to-right flow, an x for
    top-to-bottom), runs straight along it past the nodes in the way, and swings back."""
    def pt(along: float, across: float) -> QPointF:  # (flow axis, cross axis) -> scene
        return QPointF(across, along) if vertical else QPointF(along, across)

    (a0, a1), (b0, b1) = ((a.y(), a.x()), (b.y(), b.x())) if vertical else ((a.x(), a.y()), (b.x(), b.y()))
    r = min(40.0, (b0 - a0) / 4)
    path = QPainterPath(a)
    path.cubicTo(pt(a0 + r, a1), pt(a0 + r, level), pt(a0 + 2 * r, level))
    path.lineTo(pt(b0 - 2 * r, level))
    path.cubicTo(pt(b0 - r, level), pt(b0 - r, b1), b)
    return path


ROUTE_SAMPLES = 24
ROUTE_MARGIN = 14.0
ROUTE_CROWD = 40


def blocking_rects(path: QPainterPath, obstacles, ends) -> list[QRectF]:
    """Node rectangles (other than the wire's own two, ``ends``) that ``path`` crosses.
    ``obstacles(rect)`` lists the node rectangles meeting ``rect``."""
    # A straight wire's box has no height (or width), and an empty rectangle meets nothing.
    area = path.boundingRect().adjusted(-1, -1, 1, 1)
    candidates = [r for r in obstacles(area) if r not in ends]
    if not candidates or len(candidates) > ROUTE_CROWD:
        return []  # nothing in the way, or a pile of nodes no detour would clear
    points = [path.pointAtPercent(i / ROUTE_SAMPLES) for i in range(1, ROUTE_SAMPLES)]
    return [r for r in candidates if any(r.contains(q) for q in points)]


def routed_path(a: QPointF, b: QPointF, vertical: bool, obstacles, ends,
                path: QPainterPath | None = None) -> QPainterPath:
    """The plain wire (``path``, when already made), or, when it would pass behind other
    nodes, a detour above or below them (left of or right of them in a top-to-bottom
    layout), whichever side is nearer its ends."""
    path = path if path is not None else wire_path(a, b, vertical)
    a0, b0 = (a.y(), b.y()) if vertical else (a.x(), b.x())
    if b0 - a0 < 8 * ROUTE_MARGIN:  # a backward or short wire keeps its curve
        return path
    hits = blocking_rects(path, obstacles, ends)
    if not hits:
        return path
    a1, b1 = (a.x(), b.x()) if vertical else (a.y(), b.y())
    best = None
    for side in (-1, 1):
        blocked = list(hits)
        for _ in range(4):
            if side < 0:
                level = min((r.left() if vertical else r.top()) for r in blocked) - ROUTE_MARGIN
            else:
                level = max((r.right() if vertical else r.bottom()) for r in blocked) + ROUTE_MARGIN
            candidate = detour_path(a, b, vertical, level)
            more = [r for r in blocking_rects(candidate, obstacles, ends) if r not in blocked]
            if not more:
                cost = abs(level - a1) + abs(level - b1)
                if best is None or cost < best[0]:
                    best = (cost, candidate)
                break
            blocked += more
    return best[1] if best is not None else path
