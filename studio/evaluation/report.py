"""An evaluation written out for people: the confusion matrix as a PNG image and a CSV
table, and one self-contained HTML page (images and plots inline) to open in a browser.
Pillow draws the images; the plots are inline SVG. No Qt."""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from pathlib import Path

import numpy as np

from studio.evaluation.metrics import row_normalised
from studio.evaluation.result import EvaluationResult


def matrix_image(matrix: np.ndarray, cell: int | None = None):
    """The row-normalised confusion matrix as a Pillow image: one pixel block per cell,
    white (0) to dark blue (all of the row); rows are true classes, columns predicted."""
    from PIL import Image

    n = matrix.shape[0]
    cell = cell or max(1, min(32, 640 // max(n, 1)))
    shade = row_normalised(matrix)
    rgb = np.empty((n, n, 3), dtype=np.uint8)
    rgb[..., 0] = (255 - 247 * shade).astype(np.uint8)
    rgb[..., 1] = (255 - 207 * shade).astype(np.uint8)
    rgb[..., 2] = (255 - 148 * shade).astype(np.uint8)
    return Image.fromarray(rgb, "RGB").resize((n * cell, n * cell), Image.Resampling.NEAREST)


def write_report(result: EvaluationResult, out: str | Path) -> list[Path]:
    """Write the report files into the folder ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    png = None
    if result.confusion is not None:
        image = matrix_image(result.confusion)
        image.save(out / "confusion.png")
        buf = io.BytesIO()
        image.save(buf, "PNG")
        png = base64.b64encode(buf.getvalue()).decode("ascii")
        with open(out / "confusion.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["true \\ predicted", *result.classes])
            for name, row in zip(result.classes, result.confusion):
                w.writerow([name, *row.tolist()])
        written += [out / "confusion.png", out / "confusion.csv"]
    if result.table:
        with open(out / "classes.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(result.table[0]))
            w.writeheader()
            w.writerows(result.table)
        written.append(out / "classes.csv")
    (out / "report.html").write_text(report_html(result, png), "utf-8")
    written.append(out / "report.html")
    return written


def _fmt(v) -> str:
    if isinstance(v, float):
        return "–" if not math.isfinite(v) else f"{v:.4f}"
    return html.escape(str(v))


def _table(rows: list[dict], limit: int = 2000) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r.values()) + "</tr>" for r in rows[:limit])
    return f"<table><tr>{head}</tr>{body}</table>"


def _plot(xs, ys, title: str, xlabel: str, ylabel: str, points: bool = False, diagonal: bool = False) -> str:
    """A small SVG line (or scatter) plot."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if len(xs) > 4000:  # enough points to see the shape, a page that opens at once
        pick = np.linspace(0, len(xs) - 1, 4000).astype(int)
        xs, ys = xs[pick], ys[pick]
    w, h, m = 360, 260, 40
    x0, x1 = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    y0, y1 = (float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0)
    if diagonal:
        x0 = y0 = min(x0, y0)
        x1 = y1 = max(x1, y1)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    px = lambda v: m + (v - x0) / (x1 - x0) * (w - 2 * m)  # noqa: E731
    py = lambda v: h - m - (v - y0) / (y1 - y0) * (h - 2 * m)  # noqa: E731
    parts = [f'<svg width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" class="plot">',
             f'<rect x="{m}" y="{m}" width="{w - 2 * m}" height="{h - 2 * m}" fill="none" stroke="#999"/>',
             f'<text x="{w / 2}" y="16" text-anchor="middle">{html.escape(title)}</text>',
             f'<text x="{w / 2}" y="{h - 8}" text-anchor="middle">{html.escape(xlabel)}</text>',
             f'<text x="10" y="{h / 2}" transform="rotate(-90 10 {h / 2})" text-anchor="middle">'
             f'{html.escape(ylabel)}</text>',
             f'<text x="{m}" y="{h - m + 14}" font-size="10">{x0:.3g}</text>',
             f'<text x="{w - m}" y="{h - m + 14}" font-size="10" text-anchor="end">{x1:.3g}</text>',
             f'<text x="{m - 4}" y="{h - m}" font-size="10" text-anchor="end">{y0:.3g}</text>',
             f'<text x="{m - 4}" y="{m + 8}" font-size="10" text-anchor="end">{y1:.3g}</text>']
    if diagonal:
        parts.append(f'<line x1="{px(x0)}" y1="{py(y0)}" x2="{px(x1)}" y2="{py(y1)}" stroke="#bbb"/>')
    if points:
        parts += [f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="1.5" fill="#1f5fa8"/>' for a, b in zip(xs, ys)]
    elif len(xs):
        pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(xs, ys))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#1f5fa8" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "".join(parts)


def _bars(counts, edges, title: str) -> str:
    centres = (np.asarray(edges[:-1]) + np.asarray(edges[1:])) / 2
    return _plot(centres, counts, title, "residual (predicted - true)", "samples")


def _diff(prediction: str, differs: list[bool]) -> str:
    return "".join(f"<mark>{html.escape(c)}</mark>" if d else html.escape(c) for c, d in zip(prediction, differs))


def report_html(result: EvaluationResult, confusion_png: str | None = None) -> str:
    r = result
    parts = [f"<h1>Evaluation: {html.escape(Path(r.run).name)}</h1>",
             f"<p>{r.kind}, output <b>{html.escape(r.output)}</b>, {r.split} split, {r.samples} samples, "
             f"{r.checkpoint} weights of {html.escape(r.run)}</p>",
             _table([{"metric": k, "value": v} for k, v in r.metrics.items()])]
    if confusion_png:
        parts += ["<h2>Confusion matrix</h2><p>Rows: true class; columns: predicted; each row shaded by its "
                  "share (counts in confusion.csv).</p>",
                  f'<img alt="confusion matrix" src="data:image/png;base64,{confusion_png}" '
                  'style="image-rendering: pixelated; max-width: 100%">']
        if len(r.classes) <= 30:
            head = "".join(f"<th>{html.escape(c)}</th>" for c in r.classes)
            body = "".join(f"<tr><th>{html.escape(c)}</th>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
                           for c, row in zip(r.classes, r.confusion.tolist()))
            parts.append(f"<table><tr><th>true \\ predicted</th>{head}</tr>{body}</table>")
    if r.pairs:
        parts += ["<h2>Most confused</h2>", _table(r.pairs)]
    if r.table:
        parts += ["<h2>Per class</h2>", _table(r.table)]
    if "pr" in r.curves and "roc" in r.curves:
        pr, roc = r.curves["pr"], r.curves["roc"]
        parts += ["<h2>Precision-recall and ROC</h2>",
                  _plot(pr["recall"], pr["precision"], f"PR (AP {_fmt(pr['average_precision'] or float('nan'))})",
                        "recall", "precision"),
                  _plot(roc["fpr"], roc["tpr"], f"ROC (AUC {_fmt(roc['auc'] or float('nan'))})",
                        "false positive rate", "true positive rate")]
    if r.kind == "detection":
        parts.append("<h2>Precision-recall at IoU 0.5</h2>")
        parts += [_plot(c["recall"], c["precision"], name, "recall", "precision")
                  for name, c in r.curves.get("pr", {}).items() if c["recall"]]
    if r.kind == "regression":
        parts += ["<h2>Predicted against true</h2>",
                  _plot(r.truth.ravel(), r.predicted.ravel(), "predicted vs true", "true", "predicted",
                        points=True, diagonal=True),
                  _bars(r.curves["residuals"]["counts"], r.curves["residuals"]["edges"], "residuals")]
    if r.kind == "seq2seq":
        lengths = r.curves.get("by_length", [])
        parts += ["<h2>Accuracy by target length</h2>", _table(lengths),
                  "<h2>Samples</h2><p>Characters of the prediction that differ from the target are marked; "
                  "wrong ones first.</p>"]
        order = sorted(range(len(r.rows)), key=lambda i: r.rows[i]["correct"])[:500]
        body = "".join(f"<tr><td>{html.escape(r.rows[i]['source'])}</td>"
                       f"<td>{_diff(r.rows[i]['prediction'], r.rows[i]['differs'])}</td>"
                       f"<td>{html.escape(r.rows[i]['target'])}</td></tr>" for i in order)
        parts.append(f"<table><tr><th>source</th><th>prediction</th><th>target</th></tr>{body}</table>")
    style = ("body{font-family:sans-serif;margin:2em;max-width:1100px} table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right} mark{background:#f7b2b2}"
             ".plot{margin:0.5em;font-family:sans-serif;font-size:12px}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Evaluation of {html.escape(Path(r.run).name)}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
