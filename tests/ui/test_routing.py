"""Wire routing: a wire that would pass behind a node goes around it, on the nearer side."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from studio.ui.canvas.routing import ROUTE_SAMPLES, blocking_rects, routed_path, wire_path


def _obstacles(rects):
    return lambda area: [r for r in rects if r.intersects(area)]


def _crosses(path, rect) -> bool:
    return any(rect.contains(path.pointAtPercent(i / ROUTE_SAMPLES)) for i in range(1, ROUTE_SAMPLES))


def test_a_wire_with_a_node_in_its_way_goes_around_it():
    a, b = QPointF(0, 0), QPointF(600, 0)
    ends = [QRectF(-184, -30, 184, 60), QRectF(600, -30, 184, 60)]
    middle = QRectF(250, -20, 100, 60)  # reaches further below the line than above it
    plain = wire_path(a, b, vertical=False)
    assert _crosses(plain, middle)
    routed = routed_path(a, b, False, _obstacles([middle, *ends]), ends)
    assert not _crosses(routed, middle)
    assert min(routed.pointAtPercent(i / 10).y() for i in range(11)) < middle.top()  # the nearer side: above
    assert routed.pointAtPercent(0) == a and routed.pointAtPercent(1) == b


def test_a_clear_or_backward_wire_keeps_its_curve():
    a, b = QPointF(0, 0), QPointF(600, 0)
    aside = QRectF(250, 200, 100, 60)
    assert blocking_rects(wire_path(a, b, False), _obstacles([aside]), []) == []
    assert routed_path(a, b, False, _obstacles([aside]), []) == wire_path(a, b, False)
    back = routed_path(b, a, False, _obstacles([QRectF(250, -20, 100, 60)]), [])
    assert back == wire_path(b, a, False)  # it folds back to the next band; no detour
