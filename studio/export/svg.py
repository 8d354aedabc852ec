"""A drawing of a graph as SVG text, made without Qt: the template chooser's preview,
a notebook's ``_repr_svg_``, documentation. Nodes sit where the project file puts them,
coloured by category as on the canvas, with each wire's tensor shape."""

from __future__ import annotations

from html import escape

from studio.core.analysis import Analysis, analyze
from studio.core.graph import Graph
from studio.layers.categories import category_hex

WIDTH, HEADER, ROW, FOOTER = 184.0, 28.0, 20.0, 22.0
MARGIN = 40.0


def _height(graph: Graph, node) -> float:
    return HEADER + max(len(graph.input_ports(node)), len(graph.output_ports(node)), 1) * ROW + FOOTER


def _port_y(index: int) -> float:
    return HEADER + (index + 0.5) * ROW


def _human(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def graph_svg(graph: Graph, analysis: Analysis | None = None, background: str = "#1e1f22",
              text: str = "#e8e8e8", body: str = "#2b2d31") -> str:
    """The whole graph as one SVG document (a viewBox around every node)."""
    analysis = analysis if analysis is not None else analyze(graph)
    nodes = graph.nodes
    if not nodes:
        return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 60" width="200" height="60">'
                f'<rect width="200" height="60" fill="{background}"/><text x="100" y="34" fill="{text}" '
                'font-family="sans-serif" font-size="14" text-anchor="middle">(empty)</text></svg>')
    heights = {n.id: _height(graph, n) for n in nodes}
    x0 = min(n.position[0] for n in nodes) - MARGIN
    y0 = min(n.position[1] for n in nodes) - MARGIN
    x1 = max(n.position[0] + WIDTH for n in nodes) + MARGIN
    y1 = max(n.position[1] + heights[n.id] for n in nodes) + MARGIN
    w, h = x1 - x0, y1 - y0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.0f} {y0:.0f} {w:.0f} {h:.0f}" '
           f'width="{w:.0f}" height="{h:.0f}" font-family="sans-serif">',
           f'<rect x="{x0:.0f}" y="{y0:.0f}" width="{w:.0f}" height="{h:.0f}" fill="{background}"/>']
    ports_in = {n.id: [p.name for p in graph.input_ports(n)] for n in nodes}
    ports_out = {n.id: [p.name for p in graph.output_ports(n)] for n in nodes}
    for e in graph.edges:
        s, d = graph.node(e.src), graph.node(e.dst)
        ax = s.position[0] + WIDTH
        ay = s.position[1] + _port_y(ports_out[e.src].index(e.src_port))
        bx = d.position[0]
        by = d.position[1] + _port_y(ports_in[e.dst].index(e.dst_port))
        bend = max(40.0, abs(bx - ax) / 2)
        out.append(f'<path d="M{ax:.1f},{ay:.1f} C{ax + bend:.1f},{ay:.1f} {bx - bend:.1f},{by:.1f} '
                   f'{bx:.1f},{by:.1f}" fill="none" stroke="#8a8f98" stroke-width="2"/>')
        info = analysis.nodes.get(e.src)
        shape = info.outputs.get(e.src_port) if info else None
        if shape is not None:
            out.append(f'<text x="{(ax + bx) / 2:.1f}" y="{(ay + by) / 2 - 6:.1f}" fill="{text}" font-size="11" '
                       f'text-anchor="middle" opacity="0.85">{escape(str(shape))}</text>')
    errors = {p.node for p in analysis.errors if p.node}
    for n in nodes:
        x, y, hh = n.position[0], n.position[1], heights[n.id]
        spec = graph.spec(n)
        colour = category_hex(spec.category)
        border = "#e0403a" if n.id in errors else colour
        info = analysis.nodes.get(n.id)
        params = info.params if info else 0
        out += [
            f'<g><title>{escape(n.id)}: {escape(spec.title)}</title>',
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{WIDTH}" height="{hh}" rx="6" fill="{body}" '
            f'stroke="{border}" stroke-width="{2.5 if n.id in errors else 1.2}"/>',
            f'<path d="M{x:.1f},{y + HEADER:.1f} v-{HEADER - 6} a6,6 0 0 1 6,-6 h{WIDTH - 12} a6,6 0 0 1 6,6 '
            f'v{HEADER - 6} z" fill="{colour}"/>',
            f'<text x="{x + 10:.1f}" y="{y + 19:.1f}" fill="#ffffff" font-size="13" font-weight="bold">'
            f'{escape(spec.title)}</text>',
            f'<text x="{x + 10:.1f}" y="{y + HEADER + 15:.1f}" fill="{text}" font-size="12">{escape(n.id)}</text>',
            f'<text x="{x + 10:.1f}" y="{y + hh - 7:.1f}" fill="{text}" font-size="11" opacity="0.7">'
            f'{_human(params) + " params" if params else "no params"}</text>',
        ]
        for i, _ in enumerate(ports_in[n.id]):
            out.append(f'<circle cx="{x:.1f}" cy="{y + _port_y(i):.1f}" r="5" fill="{colour}"/>')
        for i, _ in enumerate(ports_out[n.id]):
            out.append(f'<circle cx="{x + WIDTH:.1f}" cy="{y + _port_y(i):.1f}" r="5" fill="{colour}"/>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
